import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { generateEmbeddedProfile, type EmbeddedProfile } from '@signer/dev';
import { loadConfig } from '../../signer-api/src/config/load-config';
import { createApp } from '../../signer-api/src/http/create-app';
import { createLogger } from '../../signer-api/src/observability/logger';
import { createRuntime, type SignerRuntime } from '../../signer-api/src/wiring/create-runtime';

export interface InProcessSigner {
  profile: EmbeddedProfile;
  url: string;
  close(): Promise<void>;
}

/** A port that was free a moment ago: the profile's publicBaseUrl (and so `htu`) must name it. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The real Signer on a fresh embedded profile, listening on a loopback port (every gate on). */
export async function startSigner(): Promise<InProcessSigner> {
  const dir = mkdtempSync(join(tmpdir(), 'signer-cli-e2e-'));
  const port = await freePort();
  const profile = await generateEmbeddedProfile(dir, { port });
  let runtime: SignerRuntime | undefined;
  let app: NestFastifyApplication | undefined;
  try {
    runtime = await createRuntime(loadConfig(profile.configPath, {}));
    const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
    app = await createApp(runtime, { logger: createLogger({ destination: quiet }) });
    await app.listen({ host: '127.0.0.1', port });
  } catch (error) {
    await app?.close();
    await runtime?.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const [started, startedRuntime] = [app, runtime];
  return {
    profile,
    url: profile.signerUrl,
    close: async () => {
      await started.close();
      await startedRuntime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
