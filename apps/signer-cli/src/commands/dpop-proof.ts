import { parseCommand, stringOption } from '../args';
import { readDpopKey, readToken } from '../binding';
import { emit, EXIT_OK, usageError, type CliIo } from '../cli-io';
import { checkedUrl } from '../defaults';

const OPTIONS = {
  method: { type: 'string' },
  url: { type: 'string' },
  'dpop-key': { type: 'string' },
  'token-file': { type: 'string' },
  nonce: { type: 'string' },
} as const;

/**
 * `dpop-proof --method M --url URL --dpop-key JWK [--token-file F] [--nonce N]`: one RFC 9449
 * proof for curl users (`-H "DPoP: $(signer dpop-proof …)"`). The proof carries `ath`, a hash of
 * the token, never the token itself; it is good for one request (its `jti` is remembered).
 */
export async function dpopProof(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('dpop-proof', args, OPTIONS, []);
  const method = stringOption(parsed, 'method');
  const url = stringOption(parsed, 'url');
  const keyFile = stringOption(parsed, 'dpop-key');
  if (method === undefined || url === undefined || keyFile === undefined)
    throw usageError('dpop-proof: --method, --url and --dpop-key are required');
  if (!/^[A-Za-z]+$/.test(method))
    throw usageError(`dpop-proof: --method expected an HTTP method, got ${method}`);
  const key = await readDpopKey(io, keyFile);
  const tokenFile = stringOption(parsed, 'token-file');
  const proof = await key.proof({
    method,
    url: checkedUrl('dpop-proof', url),
    accessToken: tokenFile === undefined ? undefined : readToken(io, tokenFile),
    nonce: stringOption(parsed, 'nonce'),
  });
  emit(io, `${proof}\n`, { proof, jkt: key.thumbprint });
  return EXIT_OK;
}
