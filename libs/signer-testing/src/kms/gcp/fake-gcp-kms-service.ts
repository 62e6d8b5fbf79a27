import { signDigest } from '../prehash-sign';
import { crc32cReference } from './crc32c-reference';
import { generateKeyVersion, type FakeGcpAlgorithm, type FakeGcpKeyVersion } from './gcp-key-versions';

/** What the fake can be told to do to the next (or every) `asymmetricSign`. */
export type GcpFailure =
  'RESOURCE_EXHAUSTED' | 'UNAVAILABLE' | 'corrupt-signature' | 'digest-crc-not-verified';

/** A Cloud KMS error with its gRPC code and the HTTP status the REST surface uses. */
export class GcpKmsError extends Error {
  constructor(
    readonly grpcCode: number,
    readonly status: string,
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}

const notFound = () => new GcpKmsError(5, 'NOT_FOUND', 404, 'key version not found');
const invalid = (message: string) => new GcpKmsError(3, 'INVALID_ARGUMENT', 400, message);

export interface GcpKmsCall {
  method: 'getPublicKey' | 'asymmetricSign';
  transport: 'grpc' | 'rest';
  name: string;
  outcome: string;
}

export interface SignInput {
  name: string;
  digest: Partial<Record<'sha256' | 'sha384' | 'sha512', Buffer>>;
  digestCrc32c?: number;
}

export interface SignOutput {
  name: string;
  signature: Buffer;
  signatureCrc32c: number;
  verifiedDigestCrc32c: boolean;
}

export interface PublicKeyOutput {
  name: string;
  pem: string;
  pemCrc32c: number;
  algorithm: FakeGcpAlgorithm;
}

/** The KMS behaviour shared by the gRPC and REST surfaces: real keys, CRC32C checked both ways. */
export class FakeGcpKmsService {
  readonly calls: GcpKmsCall[] = [];
  private readonly versions = new Map<string, FakeGcpKeyVersion>();
  private failures: GcpFailure[] = [];
  private failAlways: GcpFailure | undefined;

  addKeyVersion(algorithm: FakeGcpAlgorithm, name?: string): FakeGcpKeyVersion {
    const resource =
      name ??
      `projects/fake-project/locations/europe-west1/keyRings/signer/cryptoKeys/key-${this.versions.size + 1}/cryptoKeyVersions/1`;
    const version = generateKeyVersion(resource, algorithm);
    this.versions.set(resource, version);
    return version;
  }

  failNext(count: number, failure: GcpFailure): void {
    this.failures.push(...Array.from({ length: count }, () => failure));
  }

  failEveryRequest(failure: GcpFailure | undefined): void {
    this.failAlways = failure;
  }

  getPublicKey(name: string, transport: GcpKmsCall['transport']): PublicKeyOutput {
    const call: GcpKmsCall = { method: 'getPublicKey', transport, name, outcome: 'ok' };
    this.calls.push(call);
    return this.record(call, () => {
      const version = this.versions.get(name);
      if (!version) throw notFound();
      const pem = version.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      return {
        name,
        pem,
        pemCrc32c: crc32cReference(Buffer.from(pem, 'utf8')),
        algorithm: version.algorithm,
      };
    });
  }

  asymmetricSign(input: SignInput, transport: GcpKmsCall['transport']): SignOutput {
    const call: GcpKmsCall = { method: 'asymmetricSign', transport, name: input.name, outcome: 'ok' };
    this.calls.push(call);
    return this.record(call, () => {
      const failure = this.failures.shift() ?? this.failAlways;
      if (failure === 'RESOURCE_EXHAUSTED') throw new GcpKmsError(8, failure, 429, 'quota exceeded');
      if (failure === 'UNAVAILABLE') throw new GcpKmsError(14, failure, 503, 'unavailable');
      const version = this.versions.get(input.name);
      if (!version) throw notFound();
      if (!version.signing)
        throw new GcpKmsError(9, 'FAILED_PRECONDITION', 400, 'key version is not for signing');
      const digest = input.digest[version.signing.digestField];
      // gRPC requests also carry the oneof discriminator (`digest: 'sha256'`); only bytes count.
      const others = Object.entries(input.digest).filter(
        ([field, value]) =>
          field !== version.signing?.digestField && Buffer.isBuffer(value) && value.length > 0,
      );
      if (!digest || others.length > 0) throw invalid(`expected digest.${version.signing.digestField}`);
      if (input.digestCrc32c !== undefined && input.digestCrc32c !== crc32cReference(digest)) {
        throw invalid('The checksum in field digest_crc32c did not match the data in field digest.');
      }
      const signature = signDigest(version.privateKey, version.signing.kind, digest);
      const signatureCrc32c = crc32cReference(signature);
      // In-transit damage: the bytes change after the server computed their checksum.
      if (failure === 'corrupt-signature') signature[signature.length - 1] ^= 0x01;
      return {
        name: input.name,
        signature,
        signatureCrc32c,
        verifiedDigestCrc32c: input.digestCrc32c !== undefined && failure !== 'digest-crc-not-verified',
      };
    });
  }

  private record<T>(call: GcpKmsCall, run: () => T): T {
    try {
      return run();
    } catch (error) {
      call.outcome = error instanceof GcpKmsError ? error.status : 'INTERNAL';
      throw error;
    }
  }
}
