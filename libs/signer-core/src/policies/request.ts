import { SignerError } from '../errors';
import type { ReleaseVerdict } from '../model';

export function assertReleaseTrusted(verdict: ReleaseVerdict): void {
  if (!verdict.trusted) {
    throw new SignerError(
      'release_untrusted',
      `expected a trusted release signature, got ${verdict.reason ?? 'none'}`,
    );
  }
}

export function assertPredicateAllowed(predicateType: string, allowed: readonly string[]): void {
  if (!allowed.includes(predicateType)) {
    throw new SignerError(
      'predicate_unsupported',
      `expected one of the allowed predicate types, got ${predicateType}`,
    );
  }
}

export function assertArtifactSize(bytes: number, maxArtifactBytes: number): void {
  if (bytes > maxArtifactBytes) {
    throw new SignerError(
      'artifact_too_large',
      `expected a statement of <= ${maxArtifactBytes} bytes, got ${bytes}`,
    );
  }
}
