#!/usr/bin/env node
// `npm start`: without SIGNER_CONFIG, generate the embedded profile once into .signer-dev/ (ignored
// by git) and run the real service on it; with SIGNER_CONFIG, run on that file and generate nothing.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildEntry } from './build.mjs';

const root = join(import.meta.dirname, '..');
// SIGNER_DEV_DIR / SIGNER_DEV_PORT move the embedded profile (the docs walk-through test uses them).
const devDir = process.env.SIGNER_DEV_DIR ?? join(root, '.signer-dev');
const main = await buildEntry('signer-api');
const env = { ...process.env };

if (!env.SIGNER_CONFIG) {
  if (!existsSync(join(devDir, 'profile.json'))) {
    const generator = await buildEntry('embedded-profile');
    execFileSync(process.execPath, [generator, devDir], { stdio: ['ignore', 'ignore', 'inherit'] });
    console.error(`embedded profile generated in ${devDir}`);
  }
  env.SIGNER_CONFIG = join(devDir, 'signer.yaml');
  const profile = JSON.parse(readFileSync(join(devDir, 'profile.json'), 'utf8'));
  console.error(`
Stella Ops Signer — embedded profile (every gate active on local dev material)
  config:   ${env.SIGNER_CONFIG}
  keys:     curl -s ${profile.signerUrl}/api/v1/signer/keys
  sign:     echo '{"hello":"world"}' > /tmp/artifact.json && npm run cli -- sign /tmp/artifact.json --out /tmp/bundle.json
  verify:   npm run cli -- verify /tmp/bundle.json
  token:    npm run cli -- dev-token    (prints an OpTok bound to .signer-dev/caller/dpop.jwk.json)
`);
}

const child = spawn(process.execPath, ['--enable-source-maps', main], { stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
