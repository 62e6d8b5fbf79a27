// Finds (or starts) the services the test suite needs: Redis on 127.0.0.1:6379, PostgreSQL on
// 127.0.0.1:5432. On this machine kind they run before every session and CI run; if one has
// stopped, start it with the machine's own command. Never reaches beyond loopback.
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';

const SERVICES = [
  {
    name: 'redis',
    port: 6379,
    start: [
      'redis-server',
      [
        '--daemonize',
        'yes',
        '--bind',
        '127.0.0.1',
        '-::1',
        '--port',
        '6379',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        '/var/lib/redis',
      ],
    ],
  },
  {
    name: 'postgresql',
    port: 5432,
    start: ['bash', ['-c', 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start']],
  },
];

export function reachable(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function ensureServices() {
  for (const service of SERVICES) {
    if (await reachable(service.port)) continue;
    console.log(`${service.name} not reachable on 127.0.0.1:${service.port}; starting it`);
    spawnSync(service.start[0], service.start[1], { stdio: 'inherit' });
    for (let attempt = 0; attempt < 50 && !(await reachable(service.port)); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (!(await reachable(service.port)))
      throw new Error(`${service.name} is not reachable on 127.0.0.1:${service.port}`);
  }
}
