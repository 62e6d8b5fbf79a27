import { startAdminServer } from '../src/http/admin-server';
import type { SignerRuntime } from '../src/wiring/create-runtime';

export interface AdminReadyz {
  statusCode: number;
  body: { status: 'ready' | 'not_ready'; checkedAt: string; dependencies: Record<string, string> };
}

/**
 * `GET /readyz` on the admin listener — what an operator sees, each dependency named — served by
 * the real listener on an ephemeral loopback port for this one request. It reads the same cached
 * round as the public `/readyz`.
 */
export async function adminReadyz(runtime: Pick<SignerRuntime, 'readiness'>): Promise<AdminReadyz> {
  const admin = await startAdminServer(runtime.readiness, { host: '127.0.0.1', port: 0 });
  try {
    const response = await fetch(`http://127.0.0.1:${admin.port}/readyz`);
    return { statusCode: response.status, body: (await response.json()) as AdminReadyz['body'] };
  } finally {
    await admin.close();
  }
}
