import {
  CeremonyEndpoints,
  CeremonyService,
  type AuditLookup,
  type AuditSink,
  type CallerAuthenticator,
  type CeremonyStore,
  type Clock,
  type DecisionLog,
  type ManagedStateAdministrator,
} from '@signer/core';
import {
  FileAuditLookup,
  FileCeremonyStore,
  MemoryCeremonyStore,
  PostgresAuditLookup,
  PostgresCeremonyStore,
} from '@signer/infra-store';
import { ceremonyFilePath, ceremonyPolicyOf } from '../config/ceremonies-config';
import type { SignerConfig } from '../config/config-schema';
import { AjvCeremonyBodySchema } from '../http/ceremony-request.schema';

export interface CeremonyDependencies {
  authenticator: CallerAuthenticator;
  decisions: DecisionLog;
  /** The trail `decisions` writes to: the ceremony outbox writes earlier steps' records to it. */
  audit: AuditSink;
  clock: Clock;
  /** Applies an executed ceremony to the managed state (the managed keys' administrator). */
  administrator: ManagedStateAdministrator;
}

export interface Ceremonies {
  endpoints: CeremonyEndpoints;
  close(): Promise<void>;
}

/** Ceremonies live in the managed state's backend (`state.store`): one place for both. */
export async function openCeremonyStore(config: SignerConfig): Promise<CeremonyStore> {
  switch (config.state.store) {
    case 'postgres':
      return PostgresCeremonyStore.open({ connectionString: config.state.postgresUrl as string });
    case 'file':
      return FileCeremonyStore.open({ path: ceremonyFilePath(config) as string });
    default:
      return new MemoryCeremonyStore();
  }
}

/**
 * Asks the configured trail which records it holds (the outbox, before writing a record whose first
 * write had an unknown outcome). A sink that answers itself (tests) is asked directly.
 */
export function openAuditLookup(config: SignerConfig, audit: AuditSink): AuditLookup {
  if (typeof (audit as Partial<AuditLookup>).recorded === 'function') return audit as AuditSink & AuditLookup;
  return config.audit.sink === 'postgres'
    ? PostgresAuditLookup.open({ connectionString: config.audit.postgresUrl as string })
    : new FileAuditLookup(config.audit.filePath as string);
}

/** Dual-control ceremonies (contract §11): store, policy from `ceremonies`, and the routes' edge. */
export async function createCeremonies(
  config: SignerConfig,
  dependencies: CeremonyDependencies,
): Promise<Ceremonies> {
  const policy = ceremonyPolicyOf(config);
  const store = await openCeremonyStore(config);
  const lookup = openAuditLookup(config, dependencies.audit);
  const service = new CeremonyService({
    store,
    administrator: dependencies.administrator,
    policy,
    decisions: dependencies.decisions,
    audit: dependencies.audit,
    lookup,
    clock: dependencies.clock,
  });
  return {
    endpoints: new CeremonyEndpoints({
      authenticator: dependencies.authenticator,
      service,
      decisions: dependencies.decisions,
      bodies: new AjvCeremonyBodySchema(),
    }),
    close: async () => {
      await store.close();
      if (lookup instanceof PostgresAuditLookup) await lookup.close();
    },
  };
}
