import type { AuditRecord, PipelineObserver } from '@signer/core';
import { combineObservers } from './pipeline-observers';

const record = (auditId: string): AuditRecord => ({
  auditId,
  time: '2026-06-01T00:00:00.000Z',
  correlationId: 'c',
  route: 'POST /x',
  outcome: 'signed',
  gates: {},
  latencyMs: 1,
});

describe('combineObservers', () => {
  const calls: string[] = [];
  const observer = (name: string, wraps: boolean): PipelineObserver => ({
    gate: (gate) => void calls.push(`${name}.gate:${gate}`),
    outcome: (outcome) => void calls.push(`${name}.outcome:${outcome}`),
    decided: (r) => void calls.push(`${name}.decided:${r.auditId}`),
    ...(wraps
      ? {
          runGate: async <T>(gate: string, run: () => Promise<T>) => {
            calls.push(`${name}.enter:${gate}`);
            try {
              return await run();
            } finally {
              calls.push(`${name}.exit:${gate}`);
            }
          },
        }
      : {}),
  });

  beforeEach(() => calls.splice(0));

  describe('when no observer wraps gates', () => {
    it('adds no runGate (no per-gate cost)', () => {
      expect(combineObservers([observer('m', false), observer('d', false)]).runGate).toBeUndefined();
    });
  });

  describe('when observers wrap gates', () => {
    it('nests the wrappers in order, runs the gate once and forwards every event', async () => {
      const combined = combineObservers([observer('a', true), observer('m', false), observer('b', true)]);
      await expect(combined.runGate?.('poe', async () => 42)).resolves.toBe(42);
      combined.gate('poe', 0.001, 'pass');
      combined.decided?.(record('x'));
      expect(calls).toEqual([
        'a.enter:poe',
        'b.enter:poe',
        'b.exit:poe',
        'a.exit:poe',
        'a.gate:poe',
        'm.gate:poe',
        'b.gate:poe',
        'a.decided:x',
        'm.decided:x',
        'b.decided:x',
      ]);
    });

    it('lets a gate failure through unchanged', async () => {
      const combined = combineObservers([observer('a', true)]);
      const failure = new Error('refused');
      await expect(combined.runGate?.('quota', () => Promise.reject(failure))).rejects.toBe(failure);
    });
  });
});
