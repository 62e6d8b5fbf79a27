import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const SOURCES = join(ROOT, 'libs/signer-client/src');

interface Manifest {
  name: string;
  engines: { node: string };
  dependencies: Record<string, string>;
}
const manifest = JSON.parse(readFileSync(join(ROOT, 'libs/signer-client/package.json'), 'utf8')) as Manifest;
const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version: string }>;
};

/** Package names the shipped sources import (specs excluded): what an installer must fetch. */
function importedPackages(): Set<string> {
  const files = readdirSync(SOURCES, { recursive: true, encoding: 'utf8' }).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'),
  );
  const names = new Set<string>();
  for (const file of files) {
    const text = readFileSync(join(SOURCES, file), 'utf8');
    for (const [, specifier] of text.matchAll(/\bfrom '([^'.][^']*)'/g)) {
      const name = specifier.startsWith('@')
        ? specifier.split('/').slice(0, 2).join('/')
        : specifier.split('/')[0];
      if (!name.startsWith('node:') && !builtinModules.includes(name)) names.add(name);
    }
  }
  return names;
}

describe('@stella-ops/signer-client package.json', () => {
  describe('when its dependencies are compared with the sources and the lockfile', () => {
    it('lists exactly the packages the sources import, each pinned to the locked version', () => {
      const imported = importedPackages();
      expect(imported.size).toBeGreaterThan(0);
      expect(Object.keys(manifest.dependencies).sort()).toEqual([...imported].sort());
      for (const [name, version] of Object.entries(manifest.dependencies)) {
        expect({ name, version }).toEqual({ name, version: lock.packages[`node_modules/${name}`]?.version });
        expect({ name, version }).toEqual({ name, version: root.dependencies[name] });
      }
    });
  });

  describe('when its engines are compared with the workspace', () => {
    it('requires the Node the workspace is built and tested on', () => {
      expect(manifest.name).toBe('@stella-ops/signer-client');
      expect(manifest.engines.node).toBe(root.engines.node);
    });
  });
});
