import type { RequestKind } from './ledger';

/** The mix of an ordinary worker, by weight. */
const MIX: Array<[RequestKind, number]> = [
  ['sign-file', 26],
  ['sign-aws', 16],
  ['sign-keyless', 16],
  ['retry-same', 10],
  ['retry-conflict', 6],
  ['bad-token', 6],
  ['wrong-tenant', 6],
  ['bad-dpop', 6],
  ['oversized', 3],
  ['bad-json', 5],
  ['large-idempotent', 2],
  ['bad-token-large', 2],
  ['huge-path', 3],
  ['wrong-method', 3],
  ['readyz-flood', 2],
];
const MIX_TOTAL = MIX.reduce((sum, [, weight]) => sum + weight, 0);

/** A small seeded generator (mulberry32): the same seed sends the same mix in the same order. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The kind a uniform `value` in [0, 1) draws from the mix. */
export function pick(value: number): RequestKind {
  let remaining = value * MIX_TOTAL;
  for (const [kind, weight] of MIX) {
    remaining -= weight;
    if (remaining < 0) return kind;
  }
  return MIX[0][0];
}
