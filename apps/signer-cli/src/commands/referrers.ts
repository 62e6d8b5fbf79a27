import { SignerClient } from '@signer/client';
import { parseCommand } from '../args';
import { BINDING_OPTIONS, callerBinding } from '../binding';
import { emit, EXIT_FAILURE, EXIT_OK, usageError, type CliIo } from '../cli-io';
import { targetUrl, URL_OPTION } from '../defaults';

const OPTIONS = { ...URL_OPTION, ...BINDING_OPTIONS } as const;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * `referrers <sha256:…> --url --token-file --dpop-key`: the Signer's release verdict for a scanner
 * image (`GET /verify/referrers`). Exit 0 when trusted, 1 when not (the verdict says why).
 */
export async function referrers(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('referrers', args, OPTIONS, ['digest']);
  const digest = parsed.positionals[0];
  if (!DIGEST.test(digest)) throw usageError(`referrers: expected sha256:<64 lowercase hex>, got ${digest}`);
  const baseUrl = targetUrl('referrers', parsed, io);
  const binding = await callerBinding('referrers', parsed, io);
  const client = new SignerClient({
    baseUrl,
    accessToken: binding.token,
    dpopKey: binding.dpopKey,
    fetch: binding.fetch,
  });
  const verdict = await client.verifyReferrers(digest);
  const release = verdict.release?.version ? ` release ${verdict.release.version}` : '';
  const text = verdict.trusted
    ? `trusted: ${verdict.digest}${release} (${verdict.source})\n`
    : `not trusted: ${verdict.digest} (${verdict.source}): ${verdict.reason ?? 'no reason given'}\n`;
  emit(io, text, verdict);
  return verdict.trusted ? EXIT_OK : EXIT_FAILURE;
}
