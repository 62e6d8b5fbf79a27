import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { listensOn } from './listens-on';

describe('listensOn (which process really holds a replica port)', () => {
  it('finds this process listening on its own port, and not on a port it does not hold', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(listensOn(process.pid, port)).toBe(true);
      expect(listensOn(process.pid, port === 65535 ? 65534 : port + 1)).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('tells the process that took the port from another one answering on it', async () => {
    const child = spawn(
      process.execPath,
      // stdout.write, not console.log: under FORCE_COLOR (nx sets it) console.log colours a number.
      [
        '-e',
        "const s=require('net').createServer().listen(0,'127.0.0.1',()=>process.stdout.write(String(s.address().port)))",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString('utf8').trim())));
        child.once('exit', () => reject(new Error('the listening child exited')));
      });
      expect(listensOn(child.pid as number, port)).toBe(true);
      expect(listensOn(process.pid, port)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
