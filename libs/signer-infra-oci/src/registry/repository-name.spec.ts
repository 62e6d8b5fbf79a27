import { describe, expect, it } from '@jest/globals';
import { SignerError } from '@signer/core';
import { repositoryPath } from './repository-name';

describe('repositoryPath', () => {
  describe('when scannerRepository starts with a registry host', () => {
    it.each([
      ['registry.stella-ops.local/stella-ops/scanner', 'stella-ops/scanner'],
      ['127.0.0.1:5000/stella-ops/scanner', 'stella-ops/scanner'],
      ['localhost/scanner', 'scanner'],
      ['registry.example/a/b/c_d__e-f.g', 'a/b/c_d__e-f.g'],
    ])('drops the host (%s)', (repository, path) => {
      expect(repositoryPath(repository)).toBe(path);
    });
  });

  describe('when it has no host part', () => {
    it('keeps the whole path', () => {
      expect(repositoryPath('stella-ops/scanner')).toBe('stella-ops/scanner');
    });
  });

  describe('when it is not a repository name', () => {
    it.each([
      'registry.example/stella-ops/scanner:1.4.2',
      `registry.example/stella-ops/scanner@sha256:${'a'.repeat(64)}`,
      'registry.example/Stella/Scanner',
      'registry.example/../scanner',
      'registry.example/',
    ])('refuses it at start-up (%s)', (repository) => {
      expect(() => repositoryPath(repository)).toThrow(SignerError);
      expect(() => repositoryPath(repository)).toThrow(/scannerRepository/);
    });
  });
});
