import { afterEach, describe, expect, it } from '@jest/globals';
import { ScriptedServer } from '../../test/scripted-server';
import { probeRegistry } from './registry-probe';

describe('probeRegistry', () => {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  describe.each([200, 401])('when GET /v2/ answers %i', (status) => {
    it('resolves', async () => {
      server = await ScriptedServer.start(() => ({ status }));
      await expect(probeRegistry(server.baseUrl, 2000)).resolves.toBeUndefined();
      expect(server.seen.map((r) => r.path)).toEqual(['/v2/']);
    });
  });

  describe('when the registry fails or does not answer', () => {
    it.each([
      ['answers 503', () => ({ status: 503 })],
      ['hangs', () => 'hang' as const],
    ])('rejects (%s)', async (_label, script) => {
      server = await ScriptedServer.start(script);
      await expect(probeRegistry(server.baseUrl, 300)).rejects.toMatchObject({ kind: 'unavailable' });
    });
  });
});
