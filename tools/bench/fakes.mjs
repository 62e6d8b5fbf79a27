// The loopback fakes a variant run talks to (Fulcio + OIDC issuer, AWS KMS, an OCI registry with
// the Referrers API), in a process of their own pinned to the load generator's core, so the
// service core measures only the Signer. They come from libs/signer-testing, bundled by
// workspace.mjs; this process only starts them and reports their request counters.
// Usage: node fakes.mjs <bench-fakes.js>; IPC requests {id, type: 'start' | 'counters'}.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const kit = createRequire(import.meta.url)(process.argv[2]);
/** The Signer's own workload identity (keyless), as in signing-keyless.e2e.spec.ts. */
const KEYLESS_SUBJECT = 'signer@stella-ops.test';
/** The identity token outlives any bench run (BENCH_SECONDS ≤ 240). */
const TOKEN_LIFETIME_SECONDS = 3600;
const running = {};

async function startFulcio(dir) {
  const [oidc, ca] = await Promise.all([kit.TestOidcIssuer.create(), kit.FulcioTestCa.create()]);
  running.fulcio = await kit.FakeFulcio.start({ oidc, ca });
  const tokenFile = join(dir, 'identity-token.jwt');
  const token = await oidc.mint({ email: KEYLESS_SUBJECT, lifetimeSeconds: TOKEN_LIFETIME_SECONDS });
  writeFileSync(tokenFile, token, { mode: 0o600 });
  return { url: running.fulcio.url, tokenFile };
}

async function startAwsKms() {
  running.kms = await kit.FakeAwsKms.start();
  const key = running.kms.createKey('ECC_NIST_P256');
  // The fake's fixed loopback credentials (FAKE_AWS_CREDENTIALS), for the Signer's AWS SDK.
  return {
    endpoint: running.kms.endpoint,
    arn: key.arn,
    region: running.kms.region,
    ...running.kms.credentials,
  };
}

/** A registry serving one scanner release signed by a fresh key; the key goes to a trusted-keys file. */
async function startRegistry(dir) {
  running.registry = await kit.ReferrersRegistry.start();
  const key = kit.generateReleaseKey('ecdsa-p256');
  const release = kit.buildRegistryRelease({ signatures: [{ key }] });
  running.registry.add(release);
  const trustedKeysFile = kit.writePublicKeysFile(join(dir, 'registry-trusted-keys.pem'), [key]);
  return { url: running.registry.baseUrl, trustedKeysFile, scannerDigest: release.scannerDigest };
}

const STARTERS = { fulcio: startFulcio, 'aws-kms': startAwsKms, registry: startRegistry };

async function start({ fakes, dir }) {
  const started = {};
  for (const name of fakes) started[name] = await STARTERS[name](dir);
  return started;
}

/** Requests each fake received so far (only the fakes this process runs). */
function counters() {
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

process.on('message', (message) => {
  const answer = message.type === 'start' ? start(message) : Promise.resolve(counters());
  answer.then(
    (result) => process.send({ id: message.id, result }),
    (error) => process.send({ id: message.id, error: String(error?.stack ?? error) }),
  );
});
// The bench stops this process by its pid; if the bench itself dies, the IPC channel closes.
process.on('disconnect', () => process.exit(0));
