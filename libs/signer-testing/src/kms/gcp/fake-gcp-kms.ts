import type { Server as HttpServer, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { closeServer, startLoopbackServer } from '../loopback-http';
import { FakeGcpKmsService, GcpKmsError, type SignInput } from './fake-gcp-kms-service';
import { GCP_ALGORITHM_NUMBER } from './gcp-key-versions';

// Built from the .proto files @google-cloud/kms ships (their google/api imports come with google-gax).
function loadKmsService(): grpc.ServiceDefinition {
  const kmsProtos = join(dirname(require.resolve('@google-cloud/kms/package.json')), 'build/protos');
  const gaxProtos = join(dirname(require.resolve('google-gax')), '../protos');
  const definition = loadSync('google/cloud/kms/v1/service.proto', {
    includeDirs: [kmsProtos, gaxProtos],
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    google: { cloud: { kms: { v1: { KeyManagementService: { service: grpc.ServiceDefinition } } } } };
  };
  return pkg.google.cloud.kms.v1.KeyManagementService.service;
}

type Int64Value = { value?: string | number } | null | undefined;
const int64 = (field: Int64Value) => (field?.value === undefined ? undefined : Number(field.value));

/**
 * Cloud KMS on loopback over both transports the client library has: gRPC (insecure credentials,
 * `apiEndpoint` + `port`) and the REST surface `fallback: true` uses (`GET …/publicKey`,
 * `POST …:asymmetricSign`). Both share one {@link FakeGcpKmsService}.
 */
export class FakeGcpKms extends FakeGcpKmsService {
  private constructor(
    private readonly grpcServer: grpc.Server,
    private readonly httpServer: HttpServer,
    readonly grpcPort: number,
    /** Base URL of the REST surface, as `signing.keys.<id>.endpoint`. */
    readonly restEndpoint: string,
  ) {
    super();
  }

  static async start(): Promise<FakeGcpKms> {
    // The handlers need the instance, which needs the bound server: a holder breaks the cycle.
    const self: { fake?: FakeGcpKms } = {};
    const grpcServer = new grpc.Server();
    grpcServer.addService(loadKmsService(), {
      getPublicKey: (
        call: grpc.ServerUnaryCall<{ name: string }, unknown>,
        done: grpc.sendUnaryData<unknown>,
      ) =>
        answer(done, () => {
          const key = (self.fake as FakeGcpKms).getPublicKey(call.request.name, 'grpc');
          return { ...key, pemCrc32c: { value: String(key.pemCrc32c) }, protectionLevel: 'SOFTWARE' };
        }),
      asymmetricSign: (
        call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
        done: grpc.sendUnaryData<unknown>,
      ) =>
        answer(done, () => {
          const request = call.request;
          const out = (self.fake as FakeGcpKms).asymmetricSign(
            {
              name: String(request['name']),
              digest: (request['digest'] ?? {}) as SignInput['digest'],
              digestCrc32c: int64(request['digestCrc32c'] as Int64Value),
            },
            'grpc',
          );
          return {
            ...out,
            signatureCrc32c: { value: String(out.signatureCrc32c) },
            protectionLevel: 'SOFTWARE',
          };
        }),
    });
    const grpcPort = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    const { server, port } = await startLoopbackServer((request, body, response) =>
      (self.fake as FakeGcpKms).rest(request.method ?? '', request.url ?? '', body, response),
    );
    self.fake = new FakeGcpKms(grpcServer, server, grpcPort, `http://127.0.0.1:${port}`);
    return self.fake;
  }

  async close(): Promise<void> {
    this.grpcServer.forceShutdown();
    await closeServer(this.httpServer);
  }

  private rest(method: string, url: string, body: Buffer, response: ServerResponse): void {
    const path = decodeURIComponent(url.split('?')[0]);
    const publicKey = /^\/v1\/(.+)\/publicKey$/.exec(path);
    const sign = /^\/v1\/(.+):asymmetricSign$/.exec(path);
    try {
      if (method === 'GET' && publicKey) {
        const key = this.getPublicKey(publicKey[1], 'rest');
        // The client asks for `enum-encoding=int`.
        return json(response, 200, {
          ...key,
          algorithm: GCP_ALGORITHM_NUMBER[key.algorithm],
          pemCrc32c: String(key.pemCrc32c),
          protectionLevel: 1,
        });
      }
      if (method === 'POST' && sign) {
        const input = JSON.parse(body.toString('utf8')) as {
          digest?: Record<string, string>;
          digestCrc32c?: string;
        };
        const digest = Object.fromEntries(
          Object.entries(input.digest ?? {}).map(([field, value]) => [field, Buffer.from(value, 'base64')]),
        );
        const out = this.asymmetricSign(
          {
            name: sign[1],
            digest,
            digestCrc32c: input.digestCrc32c === undefined ? undefined : Number(input.digestCrc32c),
          },
          'rest',
        );
        return json(response, 200, {
          name: out.name,
          signature: out.signature.toString('base64'),
          signatureCrc32c: String(out.signatureCrc32c),
          verifiedDigestCrc32c: out.verifiedDigestCrc32c,
          protectionLevel: 1,
        });
      }
      throw new GcpKmsError(5, 'NOT_FOUND', 404, 'no such method');
    } catch (error) {
      const e = error instanceof GcpKmsError ? error : new GcpKmsError(13, 'INTERNAL', 500, 'internal');
      json(response, e.httpStatus, { error: { code: e.httpStatus, message: e.message, status: e.status } });
    }
  }
}

function answer(done: grpc.sendUnaryData<unknown>, run: () => unknown): void {
  try {
    done(null, run());
  } catch (error) {
    const e = error instanceof GcpKmsError ? error : new GcpKmsError(13, 'INTERNAL', 500, String(error));
    done({ code: e.grpcCode, details: e.message });
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify(body));
}
