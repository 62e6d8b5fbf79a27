import { KeyConfigError } from './errors';
import { parsePkcs11Uri, type Pkcs11Uri } from './pkcs11/pkcs11-uri';

/** A parsed `signing.keys.<keyId>.ref` (contract §7). */
export type KeyRef =
  | { scheme: 'file'; path: string }
  | { scheme: 'awskms'; keyId: string }
  | { scheme: 'gcpkms'; name: string }
  | { scheme: 'pkcs11'; uri: Pkcs11Uri };

// The four forms AWS KMS accepts as `KeyId`: key id (incl. multi-region `mrk-`), key ARN,
// alias name and alias ARN. Checking them here turns a typo into a start-up error instead of a
// KMS `NotFoundException` on the first request.
const AWS_KEY_ID = '(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})';
const AWS_ALIAS = 'alias/[A-Za-z0-9/_-]+';
const AWS_KMS_KEY = new RegExp(
  `^(?:${AWS_KEY_ID}|${AWS_ALIAS}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:(?:key/${AWS_KEY_ID}|${AWS_ALIAS}))$`,
);

const GCP_KMS_VERSION =
  /^projects\/[^/\s]+\/locations\/[^/\s]+\/keyRings\/[A-Za-z0-9_-]{1,63}\/cryptoKeys\/[A-Za-z0-9_-]{1,63}\/cryptoKeyVersions\/[1-9]\d*$/;

/**
 * Parses a key reference. Throws {@link KeyConfigError} naming the problem for anything that is
 * not one of the four documented forms; there is no default scheme, so a bare path is refused.
 */
export function parseKeyRef(ref: string): KeyRef {
  // RFC 7512 URIs have no authority (`pkcs11:token=…`), unlike the other three forms.
  if (ref.startsWith('pkcs11:')) return { scheme: 'pkcs11', uri: parsePkcs11Uri(ref) };
  const match = /^([a-z]+):\/\/(.*)$/s.exec(ref);
  if (!match) {
    throw new KeyConfigError(
      `key reference "${ref}" has no scheme; expected file://, awskms://, gcpkms:// or pkcs11:`,
    );
  }
  const [, scheme, rest] = match;
  switch (scheme) {
    case 'file':
      return { scheme: 'file', path: parseFilePath(ref, rest) };
    case 'awskms':
      return { scheme: 'awskms', keyId: parseAwsKeyId(ref, rest) };
    case 'gcpkms':
      return { scheme: 'gcpkms', name: parseGcpName(ref, rest) };
    default:
      throw new KeyConfigError(
        `key reference "${ref}" has unsupported scheme "${scheme}"; expected file, awskms, gcpkms or pkcs11`,
      );
  }
}

// The path is taken verbatim (no URL decoding): `file://./keys/dev.pem` and `file:///etc/k.pem`
// both mean what an operator reading the YAML expects.
function parseFilePath(ref: string, path: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (path.length === 0 || /[\x00-\x1f]/.test(path)) {
    throw new KeyConfigError(`key reference "${ref}" has an empty or invalid file path`);
  }
  return path;
}

function parseAwsKeyId(ref: string, rest: string): string {
  // cosign writes `awskms:///<id>` (empty endpoint); accept it, but an endpoint inside the ref is
  // refused: the contract puts it in `signing.keys.<id>.endpoint`.
  const keyId = rest.startsWith('/') ? rest.slice(1) : rest;
  if (!AWS_KMS_KEY.test(keyId)) {
    throw new KeyConfigError(
      `key reference "${ref}" is not an AWS KMS key id, key ARN, alias or alias ARN (an endpoint belongs in "endpoint")`,
    );
  }
  return keyId;
}

function parseGcpName(ref: string, name: string): string {
  if (!GCP_KMS_VERSION.test(name)) {
    throw new KeyConfigError(
      `key reference "${ref}" must be gcpkms://projects/*/locations/*/keyRings/*/cryptoKeys/*/cryptoKeyVersions/N`,
    );
  }
  return name;
}
