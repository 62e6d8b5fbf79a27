import { chainAuditRecord, GENESIS_HASH } from '../src/audit/audit-chain';
import type { AuditRecord, ChainedAuditRecord } from '../src/audit/audit-record';
import type {
  Ceremony,
  CeremonyOperation,
  CeremonyPrincipal,
  CeremonyStatus,
  CeremonyStore,
  ManagedStateAdministrator,
} from '../src/ceremonies/ceremony';
import { isOpen, samePrincipal } from '../src/ceremonies/ceremony-rules';
import { SignerError } from '../src/errors';
import { applyOperation } from '../src/keys/key-lifecycle';
import type { ManagedState } from '../src/keys/managed-state';
import { DEFAULT_ROTATION_PROFILE } from '../src/keys/rotation-profile';
import { seedManagedState } from '../src/keys/seed-state';
import type { AuditLookup } from '../src/ports/audit-lookup';
import type { AuditSink } from '../src/ports/audit-sink';
import type { Clock } from '../src/ports/clock';
import { testKey } from './managed-keys';

/** The store contract in memory, for core tests (the real stores live in infra-store). */
export class TestCeremonyStore implements CeremonyStore {
  readonly stored = new Map<string, Ceremony>();
  /** Runs once just before the next compare-and-set (a concurrent writer from another replica). */
  beforeNextWrite?: () => Promise<void>;

  async get(id: string): Promise<Ceremony | undefined> {
    const found = this.stored.get(id);
    return found === undefined ? undefined : structuredClone(found);
  }
  async list(options: { status?: CeremonyStatus; limit: number }): Promise<Ceremony[]> {
    return [...this.stored.values()]
      .filter((c) => options.status === undefined || c.status === options.status)
      .sort((a, b) => b.id.localeCompare(a.id))
      .slice(0, options.limit)
      .map((c) => structuredClone(c));
  }
  async countOpen(initiator: CeremonyPrincipal, now: string, atMost: number): Promise<number> {
    const open = [...this.stored.values()].filter(
      (c) =>
        isOpen(c.status) &&
        Date.parse(c.expiresAt) > Date.parse(now) &&
        samePrincipal(c.initiator, initiator),
    );
    return Math.min(open.length, atMost);
  }
  async compareAndSet(expectedRevision: number, next: Ceremony): Promise<boolean> {
    const hook = this.beforeNextWrite;
    this.beforeNextWrite = undefined;
    await hook?.();
    if ((this.stored.get(next.id)?.revision ?? 0) !== expectedRevision) return false;
    this.stored.set(next.id, structuredClone(next));
    return true;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * An audit trail in memory that chains like the real sinks, so tests can verify it. Like the
 * PostgreSQL sink it refuses a second record with an audit id it already holds (a sink need not be
 * idempotent), and it can be taken `down` (every append refused) and brought back. `lostAcks`
 * commits the next appends but reports them failed (a commit whose acknowledgement was lost).
 */
export class ChainedMemorySink implements AuditSink, AuditLookup {
  readonly records: ChainedAuditRecord[] = [];
  failNext = false;
  down = false;
  lostAcks = 0;
  /** Appends refused because the audit id was already recorded (a duplicate write). */
  duplicates = 0;
  /** Decides a fault per append (a flapping trail): refuse it, or commit it and report failure. */
  faults?: () => 'refuse' | 'lose-ack' | undefined;

  async append(record: AuditRecord): Promise<void> {
    const fault = this.faults?.();
    if (fault === 'lose-ack') this.lostAcks += 1;
    if (this.failNext || this.down || fault === 'refuse') {
      this.failNext = false;
      throw new SignerError('upstream_unavailable', 'audit down', { upstream: 'audit' });
    }
    if (this.records.some((r) => r.auditId === record.auditId)) {
      this.duplicates += 1;
      throw new SignerError('upstream_unavailable', `duplicate audit id ${record.auditId}`, {
        upstream: 'audit',
      });
    }
    const prev = this.records.at(-1)?.hash ?? GENESIS_HASH;
    this.records.push(chainAuditRecord(structuredClone(record), prev));
    if (this.lostAcks > 0) {
      this.lostAcks -= 1;
      throw new SignerError('upstream_unavailable', 'audit commit outcome unknown', { upstream: 'audit' });
    }
  }

  async recorded(auditIds: readonly string[]): Promise<ReadonlySet<string>> {
    if (this.down) throw new SignerError('upstream_unavailable', 'audit down', { upstream: 'audit' });
    return new Set(this.records.map((r) => r.auditId).filter((id) => auditIds.includes(id)));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Applies operations with the real lifecycle to a managed state held in memory (no key loading:
 * `key.register` is refused here, as an administrator without the key registry would).
 */
export class InMemoryAdministrator implements ManagedStateAdministrator {
  applied: Array<{ operation: CeremonyOperation; ceremonyId: string }> = [];
  constructor(
    public state: ManagedState,
    private readonly clock: Clock,
  ) {}
  async apply(operation: CeremonyOperation, ceremonyId: string): Promise<ManagedState> {
    this.state = applyOperation(this.state, operation, {
      now: this.clock.now(),
      ceremonyId,
      profiles: { default: DEFAULT_ROTATION_PROFILE },
    });
    this.applied.push({ operation, ceremonyId });
    return this.state;
  }
}

/** Two active keys (`release-a` the default, `release-b`) and one trust anchor. */
export function seededState(now: Date): ManagedState {
  const key = (name: string) => ({ ...testKey(), name, ref: `file:/keys/${name}.pem` });
  return seedManagedState({
    keys: [key('release-a'), key('release-b')],
    defaultKey: 'release-a',
    trustAnchors: [{ publicKeyPem: testKey().publicKeyPem, label: 'release 2026' }],
    profiles: { default: DEFAULT_ROTATION_PROFILE },
    now,
  });
}

/** A clock that moves only when told. */
export class StepClock implements Clock {
  constructor(private ms: number) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}
