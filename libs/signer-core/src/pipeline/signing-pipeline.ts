import { hash } from 'node:crypto';
import { canonicalize } from '../canonical-json/canonical-json';
import { dsseEnvelope } from '../dsse/envelope';
import { preAuthEncoding } from '../dsse/pae';
import { SignerError } from '../errors';
import type { PlanLimits, SignDsseResponse, SignedBundle, SigningMode } from '../model';
import type { SigstoreBundleEncoder } from '../ports/bundle-encoder';
import type { Clock } from '../ports/clock';
import type { EntitlementVerifier } from '../ports/entitlement-verifier';
import type { KeySignerRegistry } from '../ports/key-signer-registry';
import type { StoredOutcome } from '../ports/idempotency-store';
import type { QuotaGate, QuotaLease } from '../ports/quota-gate';
import type { ReleaseVerifier } from '../ports/release-verifier';
import type { RequestSchema } from '../ports/request-schema';
import { assertTenantBinding } from '../policies/caller';
import { assertEntitlementActive, assertReleaseWindow, resolvePlanLimits } from '../policies/entitlement';
import { assertArtifactSize, assertPredicateAllowed, assertReleaseTrusted } from '../policies/request';
import { assembleStatement, canonicalPayload, IN_TOTO_PAYLOAD_TYPE } from '../statement/statement';
import { CallerAuthenticator, type CallerCredentials } from './caller-authenticator';
import type { DecisionLog } from './decision-log';
import type { DecisionTrail } from './decision-trail';
import { replayedError, type IdempotencyGuard, type IdempotencyTicket } from './idempotency-guard';

export const SIGN_ROUTE = 'POST /api/v1/signer/sign/dsse';

export interface SigningPolicy {
  requiredScope: string;
  allowedPredicates: readonly string[];
  plans: Readonly<Record<string, PlanLimits>>;
  defaultMode: SigningMode;
}

export interface SigningPipelineOptions {
  schema: RequestSchema;
  authenticator: CallerAuthenticator;
  entitlements: EntitlementVerifier;
  releases: ReleaseVerifier;
  quotas: QuotaGate;
  signers: KeySignerRegistry;
  bundles: SigstoreBundleEncoder;
  /** Where every decision is begun, finished or refused (the audit trail's one owner). */
  decisions: DecisionLog;
  clock: Clock;
  policy: SigningPolicy;
  /** `Idempotency-Key` handling; without it the header is refused rather than ignored. */
  idempotency?: IdempotencyGuard;
}

export interface SignInvocation {
  /** The request's decision, begun by the caller (the HTTP edge) with {@link SIGN_ROUTE}. */
  trail: DecisionTrail;
  body: unknown;
  credentials: CallerCredentials;
  idempotencyKey?: string;
}

/** What a run reserved, so every exit path can give it back. */
interface Reservations {
  lease?: QuotaLease;
  ticket?: IdempotencyTicket;
}

/**
 * The signing pipeline: body → OpTok → sender binding → scope → PoE (entitlement, tenant) →
 * release integrity → predicate/size → quotas → sign → audit (contract §2.4). The first failing
 * gate answers; every decision, allow or deny, is audited; a reserved quota slot is released on
 * every exit path; a signature leaves only after its audit record is durable.
 */
export class SigningPipeline {
  constructor(private readonly options: SigningPipelineOptions) {}

  async sign(invocation: SignInvocation): Promise<SignDsseResponse> {
    const { trail } = invocation;
    const reserved: Reservations = {};
    try {
      const response = await this.run(invocation, trail, reserved);
      // The signature is durable and audited: bookkeeping failures must not take it back
      // (a lease that cannot be released expires; a lost idempotency record means a retry signs again).
      await reserved.lease?.release('signed').catch(() => undefined);
      await reserved.ticket?.succeed(response).catch(() => undefined);
      return response;
    } catch (thrown) {
      await reserved.lease?.release('failed').catch(() => undefined);
      const refusal = await this.options.decisions.refuse(trail, thrown);
      await reserved.ticket?.fail(refusal).catch(() => undefined);
      throw refusal;
    }
  }

  /** Answers a retry with the first answer; the replay is itself audited, pointing at the original. */
  private async replay(trail: DecisionTrail, outcome: StoredOutcome): Promise<SignDsseResponse> {
    trail.record.replayOf = outcome.kind === 'signed' ? outcome.response.auditId : outcome.auditId;
    await this.options.decisions.finish(trail, outcome.kind === 'signed' ? 'signed' : outcome.code);
    if (outcome.kind === 'signed') return outcome.response;
    throw replayedError(outcome);
  }

  private async run(
    invocation: SignInvocation,
    trail: DecisionTrail,
    reserved: Reservations,
  ): Promise<SignDsseResponse> {
    const { options } = this;
    const request = await trail.gate('body', () => options.schema.parse(invocation.body));
    trail.record.scannerImageDigest = request.scannerImageDigest;
    trail.record.predicateType = request.predicateType;
    const statement = await trail.gate('body', () => assembleStatement(request));
    trail.record.subjectDigests = statement.subject.map((s) => `sha256:${s.digest.sha256}`);

    // Canonicalisation waits for the caller to be authenticated: an anonymous body costs only its
    // parse and checks (contract §2.4 order: body, then OpTok).
    const caller = await options.authenticator.authenticate(invocation.credentials, trail);
    const payload = await trail.gate('body', () => canonicalPayload(statement));
    if (invocation.idempotencyKey !== undefined) {
      const guard = options.idempotency;
      if (!guard)
        throw new SignerError('invalid_request', 'Idempotency-Key: not supported by this deployment');
      const decision = await trail.gate('idempotency', () =>
        guard.enter(invocation.idempotencyKey as string, caller.token, request),
      );
      if (decision.kind === 'replay') return this.replay(trail, decision.outcome);
      reserved.ticket = decision.ticket;
    }

    const entitlement = await trail.gate('poe', async () => {
      const claims = await options.entitlements.verify({
        format: request.poe.format,
        value: request.poe.value,
        clientCertificate: invocation.credentials.clientCertificate,
      });
      trail.record.licenseId = claims.licenseId;
      trail.record.plan = claims.plan;
      assertEntitlementActive(claims, Math.floor(options.clock.now().getTime() / 1000));
      assertTenantBinding(caller.token, claims);
      return claims;
    });

    const verdict = await trail.gate('release', () => options.releases.verify(request.scannerImageDigest));
    await trail.gate('release', () => assertReleaseTrusted(verdict));
    await trail.gate('poe', () => assertReleaseWindow(entitlement, verdict.release));

    await trail.gate('predicate', () =>
      assertPredicateAllowed(request.predicateType, options.policy.allowedPredicates),
    );
    const limits = await trail.gate('size', () => {
      const resolved = resolvePlanLimits(options.policy.plans, entitlement);
      assertArtifactSize(payload.length, resolved.maxArtifactBytes);
      return resolved;
    });
    const mode = request.options?.signingMode ?? options.policy.defaultMode;
    trail.record.mode = mode;
    const signer = await trail.gate('body', () =>
      options.signers.resolve(mode, request.options?.keyId, { plan: entitlement.plan }),
    );

    const lease = await trail.gate('quota', () =>
      options.quotas.acquire({ licenseId: entitlement.licenseId, tenant: caller.token.tenant }, limits),
    );
    reserved.lease = lease;

    const signature = await trail.gate('sign', () =>
      signer.sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload)),
    );
    const dsse = dsseEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, signature.dsseKeyId, signature.signature);
    const withCert = (request.options?.returnBundle ?? 'dsse+cert') === 'dsse+cert';
    const bundle: SignedBundle = {
      dsse,
      ...(withCert && signature.certificateChain ? { certificateChain: signature.certificateChain } : {}),
      mode,
      signingIdentity: signature.identity,
    };
    const sigstoreBundle = options.bundles.encode(dsse, signature);
    trail.record.keyId = signature.identity.keyId;
    trail.record.certificateSerial = signature.identity.certificateSerial;
    trail.record.bundleSha256 = hash('sha256', canonicalize(bundle), 'hex');

    await options.decisions.finish(trail, 'signed');
    return {
      bundle,
      sigstoreBundle,
      policy: {
        plan: entitlement.plan,
        maxArtifactBytes: limits.maxArtifactBytes,
        qpsRemaining: lease.qpsRemaining,
      },
      auditId: trail.auditId,
    };
  }
}
