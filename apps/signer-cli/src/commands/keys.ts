import { fetchSignerKeys } from '@signer/client';
import { parseCommand } from '../args';
import { emit, EXIT_OK, type CliIo } from '../cli-io';
import { targetUrl, URL_OPTION } from '../defaults';

/** `keys --url`: the public keys (and Fulcio chain) at `GET /keys`; no credentials needed. */
export async function keys(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('keys', args, URL_OPTION, []);
  const answer = await fetchSignerKeys({ baseUrl: targetUrl('keys', parsed, io), fetch: io.fetch });
  // Label and lifecycle state follow when the Signer publishes them (contract §11).
  const lines = answer.keys.map((key) => {
    const lifecycle = [key.name, key.state, key.isDefault ? 'default' : undefined].filter(Boolean);
    return `${[key.keyId, key.algorithm, ...lifecycle].join('\t')}\n${key.publicKeyPem.trimEnd()}\n`;
  });
  const chain = answer.fulcioChain?.length
    ? `fulcioChain: ${answer.fulcioChain.length} certificate(s)\n`
    : '';
  emit(io, `${lines.join('')}${chain}`, answer);
  return EXIT_OK;
}
