import { randomBytes } from 'node:crypto';
import { DpopKey } from '@signer/client';
import type { DevAuthority } from '@signer/dev';
import type { FakeLicensingServer } from '@signer/testing';
import { QUOTA_PLAN } from './topology';

/** A tenant with its own installation, licence and PoE (issued by the fake Licensing). */
export interface Tenant {
  name: string;
  installation: string;
  licenseId: string;
  poe: string;
  /** The tenant on the small plan whose limits the quota checks watch. */
  quota: boolean;
  /** The tenant that sends large bodies with fresh Idempotency-Keys (its byte budget fills). */
  bulk?: boolean;
}

/** A DPoP-bound caller of one tenant; each worker has its own, so nonces never race. */
export interface Caller {
  tenant: Tenant;
  key: DpopKey;
  token: string;
  /** The last `DPoP-Nonce` a replica sent (any replica accepts it: nonces live in Redis). */
  nonce?: string;
}

export const QUOTA_TENANT = 'tenant-quota';
export const BULK_TENANT = 'tenant-bulk';

export async function createTenants(
  licensing: FakeLicensingServer,
  count: number,
  lifetimeSeconds: number,
): Promise<Tenant[]> {
  const names = [...Array.from({ length: count }, (_, i) => `tenant-${i + 1}`), QUOTA_TENANT, BULK_TENANT];
  return Promise.all(
    names.map(async (name) => {
      const quota = name === QUOTA_TENANT;
      const bulk = name === BULK_TENANT;
      const installation = `inst-${name}`;
      const licenseId = `lic-soak-${name}`;
      const poe = await licensing.issue(
        {
          license_id: licenseId,
          tenant: name,
          installation,
          plan: quota ? QUOTA_PLAN : 'pro',
          valid_release_year: 2030,
          max_version: '1.99.99',
        },
        { lifetimeSeconds },
      );
      return { name, installation, licenseId, poe, quota, bulk };
    }),
  );
}

export async function createCaller(
  authority: DevAuthority,
  tenant: Tenant,
  lifetimeSeconds: number,
): Promise<Caller> {
  const key = await DpopKey.generate();
  const token = await authority.mint({
    tenant: tenant.name,
    installation: tenant.installation,
    jkt: key.thumbprint,
    subject: `svc-soak-${tenant.name}`,
    lifetimeSeconds,
  });
  return { tenant, key, token };
}

/** The same token with a signature that cannot verify (random bytes of the right length). */
export function forgedToken(token: string): string {
  const [header, payload] = token.split('.');
  return `${header}.${payload}.${randomBytes(64).toString('base64url')}`;
}
