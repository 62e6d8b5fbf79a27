import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { context, propagation, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { RedisConnection } from '@signer/infra-store';
import type { SignerConfig } from '../config/config-schema';
import { subscribeUpstreamSpans, upstreamHosts } from './upstream-spans';

const exporter = new InMemorySpanExporter();
let provider: NodeTracerProvider;
let tracer: Tracer;
let server: Server;
let origin: string;
let unsubscribe: () => void;

beforeAll(async () => {
  provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  tracer = trace.getTracer('upstream-spans.spec');
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(request.url === '/fail' ? 502 : 200).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  unsubscribe = subscribeUpstreamSpans(tracer, (host) =>
    host === new URL(origin).host ? 'licensing' : host === 'collector.invalid:4318' ? null : undefined,
  );
});

afterAll(async () => {
  unsubscribe();
  await new Promise((resolve) => server.close(resolve));
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

beforeEach(() => exporter.reset());

/** Runs `work` inside a parent span and returns the spans recorded, the parent last. */
async function within(
  work: () => Promise<unknown>,
): Promise<{ parent: ReadableSpan; spans: ReadableSpan[] }> {
  await tracer.startActiveSpan('gate poe', async (span) => {
    try {
      await work();
    } finally {
      span.end();
    }
  });
  const spans = exporter.getFinishedSpans();
  const parent = spans.find((span) => span.name === 'gate poe') as ReadableSpan;
  return { parent, spans: spans.filter((span) => span !== parent) };
}

/** A loopback port nothing listens on (fetch refuses "bad ports" such as 1 before connecting). */
async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function nodeGet(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    httpRequest(url, (response) => response.resume().on('end', resolve))
      .on('error', reject)
      .end();
  });
}

describe('subscribeUpstreamSpans', () => {
  describe('when a gate calls a configured upstream with fetch and node:http', () => {
    it('records one client span per call, named for the upstream, under the gate span', async () => {
      const { parent, spans } = await within(async () => {
        await (await fetch(`${origin}/introspect?token=secret`, { method: 'POST', body: '{}' })).text();
        await nodeGet(`${origin}/introspect`);
      });
      expect(spans.map((span) => span.name)).toEqual(['licensing POST', 'licensing GET']);
      for (const span of spans) {
        expect(span.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
        expect(span.attributes).toMatchObject({
          'signer.upstream': 'licensing',
          'url.path': '/introspect',
          'http.response.status_code': 200,
        });
      }
    });
  });

  describe('when the upstream fails', () => {
    it('marks the span as an error, for 5xx answers and for refused connections', async () => {
      const { spans } = await within(async () => {
        await (await fetch(`${origin}/fail`)).text();
        await fetch(`http://127.0.0.1:${await closedPort()}/`).catch(() => undefined);
      });
      expect(spans.map((span) => [span.name, span.status.code])).toEqual([
        ['licensing GET', SpanStatusCode.ERROR],
        ['http GET', SpanStatusCode.ERROR],
      ]);
    });
  });

  describe('when the host is the OTLP collector', () => {
    it('records nothing (exporting must not trace itself)', async () => {
      const { spans } = await within(() =>
        fetch('http://collector.invalid:4318/v1/traces').catch(() => undefined),
      );
      expect(spans).toEqual([]);
    });
  });

  describe('when Redis commands run', () => {
    it('records a span per command without its arguments', async () => {
      const redis = new RedisConnection({
        url: 'redis://127.0.0.1:6379',
        keyPrefix: `signer-spans-${process.pid}:`,
      });
      await redis.connect();
      try {
        const { parent, spans } = await within(async () => {
          await redis.ping();
          await redis.run('get', (client) => client.get(redis.key('absent-secret-key')));
        });
        // (The connection's own INFO / CLIENT commands ran before, outside the gate.)
        const children = spans.filter(
          (span) => span.parentSpanContext?.spanId === parent.spanContext().spanId,
        );
        expect(children.map((span) => span.name)).toEqual(['redis ping', 'redis get']);
        expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain('absent-secret-key');
      } finally {
        await redis.close();
      }
    });
  });
});

describe('upstreamHosts', () => {
  const config = {
    authority: { issuer: 'https://authority.example', jwksUri: 'https://keys.example/jwks.json' },
    licensing: { introspectUrl: 'https://licensing.example:8443/introspect' },
    releaseIntegrity: { registryUrl: 'https://registry.example' },
    signing: {
      keys: {
        a: { ref: 'awskms://alias/a', endpoint: 'http://127.0.0.1:4566' },
        b: { ref: 'gcpkms://projects/p' },
      },
      keyless: { fulcioUrl: 'https://fulcio.example', identityTokenFile: '/t' },
    },
    telemetry: { otlpEndpoint: 'http://otel-collector:4318' },
  } as unknown as SignerConfig;

  it.each([
    ['keys.example', 'authority'],
    ['licensing.example:8443', 'licensing'],
    ['registry.example', 'registry'],
    ['fulcio.example', 'fulcio'],
    ['127.0.0.1:4566', 'kms'],
    ['kms.eu-west-1.amazonaws.com', 'kms'],
    ['cloudkms.googleapis.com', 'kms'],
    ['otel-collector:4318', null],
    ['elsewhere.example', undefined],
  ])('maps %s to %s', (host, upstream) => {
    expect(upstreamHosts(config)(host)).toBe(upstream);
  });
});
