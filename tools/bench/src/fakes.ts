// The loopback fakes a variant run talks to (Fulcio + OIDC issuer, AWS KMS, an OCI registry with
// the Referrers API), in a process of their own pinned to the load generator's core, so the
// service core measures only the Signer. They come from @signer/testing; this process only starts
// them and reports their request counters. Run as `bench.js fakes`; IPC requests
// {id, type: 'start' | 'counters'}.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateReleaseKey, writePublicKeysFile } from '@signer/dev';
import {
  FakeAwsKms,
  FakeFulcio,
  FulcioTestCa,
  ReferrersRegistry,
  SoftHsmToken,
  TestOidcIssuer,
  buildRegistryRelease,
} from '@signer/testing';
import { errorText } from './processes';
import type { UpstreamCounters } from './types';

/** The Signer's own workload identity (keyless), as in signing-keyless.e2e.spec.ts. */
const KEYLESS_SUBJECT = 'signer@stella-ops.test';
/** The identity token outlives any bench run (BENCH_SECONDS ≤ 240). */
const TOKEN_LIFETIME_SECONDS = 3600;

export type FakeName = 'fulcio' | 'aws-kms' | 'registry' | 'softhsm';

/** What each started fake tells the variant that configures the Signer for it. */
export interface StartedFakes {
  fulcio?: { url: string; tokenFile: string };
  'aws-kms'?: { endpoint: string; arn: string; region: string; accessKeyId: string; secretAccessKey: string };
  registry?: { url: string; trustedKeysFile: string; scannerDigest: string };
  /** Not a server: a SoftHSM2 token the Signer loads in-process; `conf` is its SOFTHSM2_CONF. */
  softhsm?: { ref: string; conf: string };
}

export type FakesRequest = { type: 'start'; fakes: FakeName[]; dir: string } | { type: 'counters' };

const running: { fulcio?: FakeFulcio; kms?: FakeAwsKms; registry?: ReferrersRegistry } = {};

async function startFulcio(dir: string): Promise<StartedFakes['fulcio']> {
  const [oidc, ca] = await Promise.all([TestOidcIssuer.create(), FulcioTestCa.create()]);
  running.fulcio = await FakeFulcio.start({ oidc, ca });
  const tokenFile = join(dir, 'identity-token.jwt');
  const token = await oidc.mint({ email: KEYLESS_SUBJECT, lifetimeSeconds: TOKEN_LIFETIME_SECONDS });
  writeFileSync(tokenFile, token, { mode: 0o600 });
  return { url: running.fulcio.url, tokenFile };
}

async function startAwsKms(): Promise<StartedFakes['aws-kms']> {
  running.kms = await FakeAwsKms.start();
  const key = running.kms.createKey('ECC_NIST_P256');
  // The fake's fixed loopback credentials (FAKE_AWS_CREDENTIALS), for the Signer's AWS SDK.
  return {
    endpoint: running.kms.endpoint,
    arn: key.arn,
    region: running.kms.region,
    accessKeyId: running.kms.credentials.accessKeyId,
    secretAccessKey: running.kms.credentials.secretAccessKey,
  };
}

/**
 * A SoftHSM2 token (under the run's folder) holding a P-256 key pair. Made here with the token
 * tools' own processes; the Signer loads the module itself, so signing costs the service core.
 */
async function startSoftHsm(dir: string): Promise<StartedFakes['softhsm']> {
  const token = await SoftHsmToken.create({ parentDir: dir });
  return { ref: token.uri('p256'), conf: token.confPath };
}

/** A registry serving one scanner release signed by a fresh key; the key goes to a trusted-keys file. */
async function startRegistry(dir: string): Promise<StartedFakes['registry']> {
  running.registry = await ReferrersRegistry.start();
  const key = generateReleaseKey('ecdsa-p256');
  const release = buildRegistryRelease({ signatures: [{ key }] });
  running.registry.add(release);
  const trustedKeysFile = writePublicKeysFile(join(dir, 'registry-trusted-keys.pem'), [key]);
  return { url: running.registry.baseUrl, trustedKeysFile, scannerDigest: release.scannerDigest };
}

async function start(fakes: readonly FakeName[], dir: string): Promise<StartedFakes> {
  const started: StartedFakes = {};
  if (fakes.includes('fulcio')) started.fulcio = await startFulcio(dir);
  if (fakes.includes('aws-kms')) started['aws-kms'] = await startAwsKms();
  if (fakes.includes('registry')) started.registry = await startRegistry(dir);
  if (fakes.includes('softhsm')) started.softhsm = await startSoftHsm(dir);
  return started;
}

/** Requests each fake received so far (only the fakes this process runs). */
function counters(): UpstreamCounters {
  const { fulcio, kms, registry } = running;
  return {
    ...(fulcio && { fulcioCalls: fulcio.calls.length, fulcioIssued: fulcio.issuedCount() }),
    ...(kms && {
      kmsCalls: kms.calls.length,
      kmsSignCalls: kms.signCalls().length,
      kmsErrors: kms.calls.filter((call) => call.status !== 200).length,
    }),
    ...(registry && { registryRequests: registry.requests.length }),
  };
}

/** Answers the bench's requests until it goes away. */
export function serveFakes(): void {
  process.on('message', (raw) => {
    const message = raw as FakesRequest & { id: number };
    const answer: Promise<unknown> =
      message.type === 'start' ? start(message.fakes, message.dir) : Promise.resolve(counters());
    answer.then(
      (result) => process.send?.({ id: message.id, result }),
      (error: unknown) => process.send?.({ id: message.id, error: errorText(error) }),
    );
  });
  // The bench stops this process by its pid; if the bench itself dies, the IPC channel closes.
  process.on('disconnect', () => process.exit(0));
}
