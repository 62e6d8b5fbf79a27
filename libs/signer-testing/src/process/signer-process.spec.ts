import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../net/free-port';
import { SignerProcess } from './signer-process';

// Stand-ins for the service bundle: the launcher's contract is the process, its port and its logs.
const READY_SERVICE = `
const { createServer } = require('node:http');
const { appendFileSync } = require('node:fs');
console.log(JSON.stringify({ msg: 'starting', config: process.env.SIGNER_CONFIG, path: Boolean(process.env.PATH) }));
appendFileSync(process.env.SIGNER__AUDIT__FILEPATH, JSON.stringify({ outcome: 'signed' }) + '\\n');
createServer((req, res) => { console.log('served ' + req.url); res.end('{}'); })
  .listen(Number(process.env.SIGNER__SERVER__PORT), '127.0.0.1');
`;
const REFUSING_SERVICE = `console.error('signer-api: config: bad key'); process.exit(78);`;

describe('SignerProcess', () => {
  let dir: string;
  const bundle = (name: string, source: string) => {
    const file = join(dir, name);
    writeFileSync(file, source);
    return file;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'signer-process-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('when the process listens on its port and answers readiness', () => {
    it('starts, hands it only PATH and the given settings, keeps its log lines and stops it', async () => {
      const auditFile = join(dir, 'audit.jsonl');
      const signer = await SignerProcess.start({
        bundle: bundle('ready.js', READY_SERVICE),
        port: await freePort(),
        auditFile,
        env: { SIGNER_CONFIG: '/etc/signer.yaml' },
      });
      try {
        expect(signer.running).toBe(true);
        await signer.logged('served /readyz');
        expect(signer.logs.lines.map((line) => line.startsWith('{') && JSON.parse(line))).toContainEqual({
          msg: 'starting',
          config: '/etc/signer.yaml',
          path: true,
        });
        expect(signer.auditLines()).toEqual([{ outcome: 'signed' }]);
      } finally {
        await signer.stop();
      }
      expect(signer.state).toBe('exit SIGTERM');
    });
  });

  describe('when the process exits before it is ready', () => {
    it('rejects with its exit and its last log lines', async () => {
      const started = SignerProcess.start({
        bundle: bundle('refusing.js', REFUSING_SERVICE),
        port: await freePort(),
        env: {},
      });
      await expect(started).rejects.toThrow(/\(exit 78\):\nsigner-api: config: bad key/);
    });
  });
});
