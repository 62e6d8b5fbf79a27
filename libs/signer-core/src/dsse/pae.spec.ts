import { preAuthEncoding } from './pae';

describe('preAuthEncoding', () => {
  describe('when given the DSSE protocol example', () => {
    it('produces the documented bytes', () => {
      // DSSE protocol.md test vector: PAE("http://example.com/HelloWorld", "hello world")
      const pae = preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world'));
      expect(pae.toString('utf8')).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    });
  });

  describe('when the payload has multi-byte characters', () => {
    it('counts bytes, not characters', () => {
      const pae = preAuthEncoding('t', Buffer.from('é', 'utf8'));
      expect(pae.toString('utf8')).toBe('DSSEv1 1 t 2 é');
    });
  });
});
