import 'reflect-metadata';
import { KeyConfigError } from '@signer/infra-kms';
import type { AddressInfo } from 'node:net';
import { publicBaseUrl } from './config/consistency';
import { ConfigError, loadConfig } from './config/load-config';
import { logLevelFromEnv } from './config/log-level';
import { startAdminServer, type AdminServer } from './http/admin-server';
import { createApp } from './http/create-app';
import { serverTls } from './http/server-tls';
import { createLogger } from './observability/logger';
import { createRuntime } from './wiring/create-runtime';

/** sysexits EX_CONFIG: the operator fixes the configuration; restarting alone will not help. */
const EXIT_CONFIG = 78;
/** Anything else, including a port held by another process (restarting may help). */
const EXIT_FAILURE = 1;

function configPath(argv: string[]): string | undefined {
  const index = argv.indexOf('--config');
  return index >= 0 ? argv[index + 1] : process.env['SIGNER_CONFIG'];
}

/** A listen failure, naming the key and the address: in use (exit 1), or not usable here (exit 78). */
class ListenError extends Error {
  constructor(
    readonly key: string,
    address: { host: string; port: number },
    readonly code: string,
  ) {
    const why =
      code === 'EADDRINUSE'
        ? 'the address is already in use'
        : code === 'EACCES'
          ? 'permission denied (a port below 1024 needs privileges)'
          : code === 'EADDRNOTAVAIL'
            ? 'the host is not an address of this machine'
            : code;
    super(`cannot listen on ${address.host}:${address.port} (${key}): ${why}`);
    this.name = 'ListenError';
  }

  get exitCode(): number {
    return this.code === 'EADDRINUSE' ? EXIT_FAILURE : EXIT_CONFIG;
  }
}

async function listening<T>(key: string, address: { host: string; port: number }, start: () => Promise<T>) {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')
      throw new ListenError(key, address, code);
    throw error;
  }
}

async function main(): Promise<void> {
  const logger = createLogger({ level: logLevelFromEnv(process.env) });
  const config = loadConfig(configPath(process.argv));
  const https = serverTls(config);
  const runtime = await createRuntime(config);
  const app = await createApp(runtime, { logger, https });
  let admin: AdminServer | undefined;
  try {
    const { host, port, adminHost, adminPort } = config.server;
    await listening('server.port', { host, port }, () => app.listen({ host, port }));
    if (adminPort !== undefined) {
      admin = await listening('server.adminPort', { host: adminHost, port: adminPort }, () =>
        startAdminServer(runtime.readiness, { host: adminHost, port: adminPort }),
      );
      logger.info({ host: adminHost, port: admin.port }, 'admin listener (readiness detail)');
    }
  } catch (error) {
    await app.close();
    await runtime.close();
    throw error;
  }
  // The port the listener really got (`server.port: 0`, or moved by SIGNER__SERVER__PORT) is the
  // one DPoP `htu`, the log line, OpenAPI `servers` and `npm start`'s banner name.
  const { port } = app.getHttpServer().address() as AddressInfo;
  runtime.publicBaseUrl = publicBaseUrl(config, port);
  logger.info({ url: runtime.publicBaseUrl }, 'signer listening');
  const { unmanagedConfigKeys } = runtime.keys;
  if (unmanagedConfigKeys.length > 0) {
    logger.warn(
      { keys: unmanagedConfigKeys },
      'configured signing keys are not in the managed state (seeded earlier): register them by ceremony',
    );
  }
  // `npm start` (tools/start.mjs) runs the service with an IPC channel and waits for this message.
  process.send?.({ type: 'signer.listening', url: runtime.publicBaseUrl });
  let stopping: Promise<void> | undefined;
  // Idempotent: a terminal's Ctrl-C reaches both `npm start` (which forwards SIGTERM) and the service.
  const shutdown = (signal: string) =>
    (stopping ??= (async () => {
      logger.info({ signal }, 'shutting down');
      await admin?.close();
      await app.close();
      await runtime.close();
      process.exit(0);
    })());
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** Exit code and one line for the failures an operator acts on; undefined for anything else. */
function operatorFailure(error: unknown): { code: number; line: string } | undefined {
  if (error instanceof ConfigError || error instanceof KeyConfigError)
    return { code: EXIT_CONFIG, line: error.message };
  if (error instanceof ListenError) return { code: error.exitCode, line: error.message };
  return undefined;
}

main().catch((error: unknown) => {
  // Refuse to start, naming the problem: no stack for configuration or listen mistakes.
  const known = operatorFailure(error);
  process.stderr.write(`signer-api: ${known?.line ?? String((error as Error)?.stack ?? error)}\n`);
  process.exit(known?.code ?? EXIT_FAILURE);
});
