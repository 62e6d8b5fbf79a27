// Runs in an empty project where only @stella-ops/signer-client is installed (and so sees nothing
// of the workspace): signs two statements in a row against a Signer whose plan refills one
// signature every two seconds, so the second call meets 429 and retries on its own. Prints one JSON
// line: each request's path, status and Idempotency-Key, the retries, what verified. No secrets.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DpopKey, SignerClient, SignerProblemError, verifyBundle } from '@stella-ops/signer-client';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const sent = [];
const retries = [];
const client = new SignerClient({
  baseUrl: input.baseUrl,
  accessToken: readFileSync(input.tokenFile, 'utf8').trim(),
  dpopKey: await DpopKey.fromPrivateJwk(JSON.parse(readFileSync(input.dpopKeyFile, 'utf8'))),
  fetch: async (url, init) => {
    const response = await fetch(url, init);
    const headers = new Headers(init?.headers);
    sent.push({
      path: new URL(url).pathname,
      status: response.status,
      idempotencyKey: headers.get('idempotency-key'),
    });
    return response;
  },
  onRetry: (event) => retries.push(event),
});
const poe = readFileSync(input.poeFile, 'utf8').trim();
const request = (sha256) => ({
  subject: [{ name: `artifact-${sha256.slice(0, 8)}.txt`, digest: { sha256 } }],
  predicateType: input.predicateType,
  predicate: { producedBy: 'the packed client' },
  scannerImageDigest: input.scannerDigest,
  poe: { format: 'jwt', value: poe },
});

const answers = [];
for (const digest of input.digests) answers.push(await client.signDsse(request(digest)));
const { keys } = await client.keys();
const verified = await Promise.all(answers.map((answer) => verifyBundle(answer, keys)));
const required = createRequire(import.meta.url)('@stella-ops/signer-client');
console.log(
  JSON.stringify({
    auditIds: answers.map((answer) => answer.auditId),
    signedSubjects: verified.map((result) => result.statement.subject[0].digest.sha256),
    sent,
    retries,
    requireSharesClasses: required.SignerProblemError === SignerProblemError,
  }),
);
