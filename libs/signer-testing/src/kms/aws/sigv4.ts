import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SigV4Request {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SigV4Expectations {
  credentials: SigV4Credentials;
  region: string;
  service: string;
  /** Epoch ms "now", for the ±5 minute request-time window AWS enforces. */
  nowMs: number;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;
const REQUIRED_SIGNED = ['host', 'x-amz-date', 'x-amz-target', 'content-type'];
const MAX_SKEW_MS = 5 * 60 * 1000;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * Checks an AWS Signature Version 4 request the way AWS does, with the real secret: the scope, the
 * signed headers, the payload hash and the HMAC chain. Returns the problem, or undefined when the
 * request is authentic.
 */
export function sigV4Problem(request: SigV4Request, expect: SigV4Expectations): string | undefined {
  const match = AUTH.exec(String(request.headers.authorization ?? ''));
  if (!match) return 'missing or malformed SigV4 Authorization header';
  const [, accessKeyId, day, region, service, signedHeaderList, signature] = match;
  if (accessKeyId !== expect.credentials.accessKeyId) return 'unknown access key';
  if (region !== expect.region || service !== expect.service) return `wrong scope ${region}/${service}`;
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== day)
    return 'x-amz-date missing or not matching the scope';
  const when = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (Math.abs(when - expect.nowMs) > MAX_SKEW_MS) return 'request time outside the allowed window';
  const signed = signedHeaderList.split(';');
  const missing = REQUIRED_SIGNED.filter((name) => !signed.includes(name));
  if (missing.length) return `headers not signed: ${missing.join(', ')}`;
  const payloadHash = sha256(request.body);
  const declared = request.headers['x-amz-content-sha256'];
  if (declared !== undefined && declared !== payloadHash)
    return 'x-amz-content-sha256 does not match the body';
  const canonicalHeaders = signed
    .map(
      (name) =>
        `${name}:${String(request.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonicalRequest = [
    request.method,
    request.path,
    '',
    canonicalHeaders,
    signedHeaderList,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${expect.credentials.secretAccessKey}`, day), region), service),
    'aws4_request',
  );
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex')) ? undefined : 'signature does not match';
}
