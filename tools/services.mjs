// Finds (or starts) the services the test suite needs: Redis on 127.0.0.1:6379, PostgreSQL on
// 127.0.0.1:5432. On this machine kind they run before every session and CI run; if one has
// stopped, start it with the machine's own command. Never reaches beyond loopback.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

/** Where Debian's `docker-registry` package (the CNCF distribution registry) installs its binary. */
export const DOCKER_REGISTRY_BINARY = '/usr/bin/docker-registry';

/**
 * The release-integrity tests start their own registry from Debian's `docker-registry` package;
 * install it when missing (CI and developers run as root; apt-get needs a fresh package list first).
 */
export function ensureDockerRegistry() {
  if (existsSync(DOCKER_REGISTRY_BINARY)) return DOCKER_REGISTRY_BINARY;
  console.log(`${DOCKER_REGISTRY_BINARY} missing; installing the docker-registry Debian package`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'docker-registry']]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (status ${result.status})`);
  }
  if (!existsSync(DOCKER_REGISTRY_BINARY))
    throw new Error(`${DOCKER_REGISTRY_BINARY} still missing after install`);
  return DOCKER_REGISTRY_BINARY;
}

/** Debian's `softhsm2` module, and `pkcs11-tool` (opensc) which generates the test tokens' keys. */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const PKCS11_TOOL = '/usr/bin/pkcs11-tool';

/**
 * The PKCS#11 tests sign with a real SoftHSM2 token (`SoftHsmToken` in @signer/testing); install
 * `softhsm2` (and `opensc` for `pkcs11-tool`) when missing, as for the registry.
 */
export function ensureSoftHsm() {
  const missing = [
    ...(existsSync(SOFTHSM_MODULE) ? [] : ['softhsm2']),
    ...(existsSync(PKCS11_TOOL) ? [] : ['opensc']),
  ];
  if (missing.length === 0) return SOFTHSM_MODULE;
  console.log(`${missing.join(' and ')} missing; installing the Debian package(s)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...missing]]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (status ${result.status})`);
  }
  if (!existsSync(SOFTHSM_MODULE) || !existsSync(PKCS11_TOOL))
    throw new Error(`${SOFTHSM_MODULE} or ${PKCS11_TOOL} still missing after install`);
  return SOFTHSM_MODULE;
}

export async function ensureServices() {
  ensureDockerRegistry();
  ensureSoftHsm();
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
