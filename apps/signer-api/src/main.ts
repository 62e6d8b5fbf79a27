import 'reflect-metadata';
import { KeyConfigError } from '@signer/infra-kms';
import { ConfigError, loadConfig } from './config/load-config';
import { createApp } from './http/create-app';
import { serverTls } from './http/server-tls';
import { createLogger } from './observability/logger';
import { createRuntime } from './wiring/create-runtime';

function configPath(argv: string[]): string | undefined {
  const index = argv.indexOf('--config');
  return index >= 0 ? argv[index + 1] : process.env['SIGNER_CONFIG'];
}

async function main(): Promise<void> {
  const logger = createLogger();
  const config = loadConfig(configPath(process.argv));
  const https = serverTls(config);
  const runtime = await createRuntime(config);
  const app = await createApp(runtime, { logger, https });
  await app.listen({ host: config.server.host, port: config.server.port });
  logger.info({ url: runtime.publicBaseUrl }, 'signer listening');
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    await runtime.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** Mistakes an operator fixes in the config (EX_CONFIG, no stack): bad keys, bad key references. */
function isConfigurationError(error: unknown): boolean {
  return error instanceof ConfigError || error instanceof KeyConfigError;
}

main().catch((error: unknown) => {
  // Refuse to start, naming the problem; no stack for configuration mistakes.
  process.stderr.write(
    `signer-api: ${isConfigurationError(error) ? (error as Error).message : String((error as Error)?.stack ?? error)}\n`,
  );
  process.exit(isConfigurationError(error) ? 78 : 1);
});
