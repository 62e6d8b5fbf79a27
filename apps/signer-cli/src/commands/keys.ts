import { fetchSignerKeys } from '@signer/client';
import { parseCommand } from '../args';
import { emit, EXIT_OK, type CliIo } from '../cli-io';
import { targetUrl, URL_OPTION } from '../defaults';

/** `keys --url`: the public keys (and Fulcio chain) at `GET /keys`; no credentials needed. */
export async function keys(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('keys', args, URL_OPTION, []);
  const answer = await fetchSignerKeys({ baseUrl: targetUrl('keys', parsed, io), fetch: io.fetch });
  const lines = answer.keys.map((key) => `${key.keyId}\t${key.algorithm}\n${key.publicKeyPem.trimEnd()}\n`);
  const chain = answer.fulcioChain?.length
    ? `fulcioChain: ${answer.fulcioChain.length} certificate(s)\n`
    : '';
  emit(io, `${lines.join('')}${chain}`, answer);
  return EXIT_OK;
}
