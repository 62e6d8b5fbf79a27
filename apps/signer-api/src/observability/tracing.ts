import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { SignerConfig } from '../config/config-schema';
import { subscribeUpstreamSpans, upstreamHosts } from './upstream-spans';

export const DEFAULT_SERVICE_NAME = 'stella-ops-signer';
export const TRACER_NAME = 'signer-api';
/** OTLP/HTTP path appended to `telemetry.otlpEndpoint` (the collector's base URL). */
export const OTLP_TRACES_PATH = '/v1/traces';

export interface TelemetryOptions {
  /** Replaces the OTLP exporter (tests pass an in-memory exporter); enables tracing by itself. */
  exporter?: SpanExporter;
}

/**
 * OpenTelemetry tracing for one process: a span per request, per gate and per upstream call,
 * exported over OTLP/HTTP. Built only when `telemetry.otlpEndpoint` (or a test exporter) is set;
 * otherwise nothing is loaded, registered or subscribed, and the API's no-op tracer is all that
 * runs. The provider is registered globally (one per process), as OpenTelemetry expects.
 */
export class Telemetry {
  private constructor(
    readonly tracer: Tracer,
    private readonly stop: () => Promise<void>,
  ) {}

  static async start(config: SignerConfig, options: TelemetryOptions = {}): Promise<Telemetry | undefined> {
    const settings = config.telemetry;
    if (!settings?.otlpEndpoint && !options.exporter) return undefined;
    // Loaded lazily so a Signer without tracing never pays for the SDK, not even at start-up.
    const [{ NodeTracerProvider }, { BatchSpanProcessor, SimpleSpanProcessor }, { resourceFromAttributes }] =
      await Promise.all([
        import('@opentelemetry/sdk-trace-node'),
        import('@opentelemetry/sdk-trace-base'),
        import('@opentelemetry/resources'),
      ]);
    const processor = options.exporter
      ? new SimpleSpanProcessor(options.exporter)
      : new BatchSpanProcessor(await otlpExporter(settings?.otlpEndpoint as string));
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': settings?.serviceName ?? DEFAULT_SERVICE_NAME }),
      spanProcessors: [processor],
    });
    provider.register();
    const tracer = trace.getTracer(TRACER_NAME);
    const unsubscribe = subscribeUpstreamSpans(tracer, upstreamHosts(config));
    return new Telemetry(tracer, async () => {
      unsubscribe();
      await provider.shutdown().catch(() => undefined);
      trace.disable();
      context.disable();
      propagation.disable();
    });
  }

  /** Flushes pending spans and unregisters everything this instance registered. */
  shutdown(): Promise<void> {
    return this.stop();
  }
}

async function otlpExporter(endpoint: string): Promise<SpanExporter> {
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  return new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}${OTLP_TRACES_PATH}` });
}

/** The trace and span ids of the active span, for log lines; empty when nothing is traced. */
export function activeTraceIds(): { traceId?: string; spanId?: string } {
  const span = trace.getSpanContext(context.active());
  return span ? { traceId: span.traceId, spanId: span.spanId } : {};
}
