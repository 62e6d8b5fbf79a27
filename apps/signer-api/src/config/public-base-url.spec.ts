import { describe, expect, it } from '@jest/globals';
import { publicBaseUrl } from './consistency';
import type { SignerConfig } from './config-schema';

const config = (server: Partial<SignerConfig['server']>) =>
  ({ server: { host: '127.0.0.1', port: 8080, ...server } }) as SignerConfig;

describe('publicBaseUrl', () => {
  describe('when server.publicBaseUrl is set', () => {
    it('is that URL, whatever port the listener got', () => {
      expect(publicBaseUrl(config({ publicBaseUrl: 'https://signer.example' }), 39411)).toBe(
        'https://signer.example',
      );
    });
  });

  describe('when it is not set and the listener has its port', () => {
    it('names the port the listener really got (server.port 0 or an override)', () => {
      expect(publicBaseUrl(config({ port: 0 }), 39411)).toBe('http://127.0.0.1:39411');
    });
  });

  describe('when it is not set and the host is an IPv6 address', () => {
    it('brackets the host', () => {
      expect(publicBaseUrl(config({ host: '::1' }))).toBe('http://[::1]:8080');
    });
  });

  describe('when it is not set and the listener is https', () => {
    it('uses the https scheme', () => {
      const tls = { certFile: 'c.pem', keyFile: 'k.pem' };

      expect(publicBaseUrl(config({ tls }), 8443)).toBe('https://127.0.0.1:8443');
    });
  });
});
