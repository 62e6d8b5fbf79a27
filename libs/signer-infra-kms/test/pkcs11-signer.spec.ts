import { readFileSync } from 'node:fs';
import { preAuthEncoding, SignerError } from '@signer/core';
import { SOFTHSM_MODULE, SoftHsmToken } from '@signer/testing';
import { PKCS11 } from 'pkcs11js';
import * as pkcs11 from 'pkcs11js';
import { KeyConfigError } from '../src/errors';
import { parseKeyRef } from '../src/key-ref';
import { Pkcs11Signer, type Pkcs11SignerOptions } from '../src/pkcs11/pkcs11-signer';
import { parsePkcs11Uri } from '../src/pkcs11/pkcs11-uri';
import { independentlyVerifies, refusalOf } from './kms-verify';

const data = preAuthEncoding(
  'application/vnd.in-toto+json',
  Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}'),
);

// Token creation runs softhsm2-util and pkcs11-tool (RSA-3072 generation) as child processes.
jest.setTimeout(30_000);

describe('Pkcs11Signer against a real SoftHSM2 token', () => {
  let token: SoftHsmToken;
  const opened: Pkcs11Signer[] = [];
  const create = async (options: Omit<Pkcs11SignerOptions, 'keyId'> & { keyId?: string }) => {
    const signer = await Pkcs11Signer.create({ keyId: 'hsm', ...options });
    opened.push(signer);
    return signer;
  };
  beforeAll(async () => {
    token = await SoftHsmToken.create();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((signer) => signer.close()));
  });
  afterAll(() => token.cleanup());

  describe('when the URI names a key pair on the token', () => {
    it.each([
      ['p256', undefined, 'ES256'],
      ['p384', undefined, 'ES384'],
      ['rsa3072', 'PS256', 'PS256'],
      ['rsa3072', 'RS256', 'RS256'],
    ] as const)(
      'signs with %s as %s→%s; node:crypto verifies it with the published PEM',
      async (key, configured, algorithm) => {
        const signer = await create({ uri: parsePkcs11Uri(token.uri(key)), algorithm: configured });
        expect(signer.algorithm).toBe(algorithm);
        const described = await signer.describe();
        expect(described).toEqual({ keyId: 'hsm', algorithm, publicKeyPem: signer.publicKeyPem });
        const result = await signer.sign(data);
        expect(result).toMatchObject({ dsseKeyId: 'hsm', identity: { keyId: 'hsm' } });
        expect(independentlyVerifies(algorithm, described.publicKeyPem, data, result.signature)).toBe(true);
        expect(
          independentlyVerifies(algorithm, described.publicKeyPem, Buffer.from('other'), result.signature),
        ).toBe(false);
      },
    );

    it('finds the key pair by object label as well as by id', async () => {
      const ref = `pkcs11:token=${token.label};object=ec-p384?pin-source=file:${token.pinFile}&module-path=${SOFTHSM_MODULE}`;
      const signer = await create({ uri: parsePkcs11Uri(ref) });
      expect(signer.algorithm).toBe('ES384');
      const { signature } = await signer.sign(data);
      expect(independentlyVerifies('ES384', signer.publicKeyPem, data, signature)).toBe(true);
    });

    it('signs more requests at once than it has sessions; every signature verifies', async () => {
      const signer = await create({ uri: parsePkcs11Uri(token.uri('p256')), poolSize: 2 });
      const messages = Array.from({ length: 24 }, (_, i) => Buffer.from(`message ${i}`));
      const results = await Promise.all(messages.map((message) => signer.sign(message)));
      results.forEach(({ signature }, i) =>
        expect(independentlyVerifies('ES256', signer.publicKeyPem, messages[i], signature)).toBe(true),
      );
    });

    it('recovers when its sessions are closed under it: the next signature is made on a fresh session', async () => {
      const signer = await create({ uri: parsePkcs11Uri(token.uri('p256')) });
      await signer.sign(data);
      // A second handle on the same (process-wide) module closes every session of the token.
      const other = new PKCS11();
      other.load(SOFTHSM_MODULE);
      try {
        other.C_Initialize();
      } catch (error) {
        expect((error as Error).message).toBe('CKR_CRYPTOKI_ALREADY_INITIALIZED');
      }
      const [slot] = other.C_GetSlotList(true);
      other.C_CloseAllSessions(slot);
      other.close();
      const { signature } = await signer.sign(data);
      expect(independentlyVerifies('ES256', signer.publicKeyPem, data, signature)).toBe(true);
      await expect(signer.probe()).resolves.toBeUndefined();
    });

    it('answers readiness probes with the published key', async () => {
      const signer = await create({ uri: parsePkcs11Uri(token.uri('rsa3072')), algorithm: 'PS256' });
      await expect(signer.probe()).resolves.toBeUndefined();
    });
  });

  describe('when the key cannot be used as configured', () => {
    it('refuses to start with a wrong PIN, naming the PIN file but never the PIN', async () => {
      const wrong = token.writePinFile('wrong.pin', 'not-the-pin-4711\n');
      const error = await refusalOf(create({ uri: parsePkcs11Uri(token.uri('p256', { pinFile: wrong })) }));
      expect(error).toBeInstanceOf(KeyConfigError);
      expect(error.message).toMatch(/login \(CKR_PIN_INCORRECT\); check the PIN file .*wrong\.pin/);
      expect(error.message).not.toContain('4711');
    });

    it('refuses to start when the PIN file is missing', async () => {
      const error = await refusalOf(
        create({ uri: parsePkcs11Uri(token.uri('p256', { pinFile: `${token.dir}/absent.pin` })) }),
      );
      expect(error).toBeInstanceOf(KeyConfigError);
      expect(error.message).toMatch(/cannot read the PIN file .*absent\.pin/);
    });

    it('refuses to start when no key pair has the id, naming it', async () => {
      const ref = token.uri('p256').replace('id=%01', 'id=%7f');
      const error = await refusalOf(create({ uri: parsePkcs11Uri(ref) }));
      expect(error).toBeInstanceOf(KeyConfigError);
      expect(error.message).toMatch(/no private key object with id=7f/);
    });

    it('refuses to start when no token has the label, listing the tokens present', async () => {
      const ref = token.uri('p256').replace(`token=${token.label}`, 'token=absent');
      const error = await refusalOf(create({ uri: parsePkcs11Uri(ref) }));
      expect(error).toBeInstanceOf(KeyConfigError);
      expect(error.message).toMatch(/no initialised token matches token="absent".*stella-signer-test/);
    });

    it('refuses an RSA key without an explicit algorithm, and a curve that does not match', async () => {
      expect((await refusalOf(create({ uri: parsePkcs11Uri(token.uri('rsa3072')) }))).message).toMatch(
        /needs an explicit algorithm: PS256 or RS256/,
      );
      expect(
        (await refusalOf(create({ uri: parsePkcs11Uri(token.uri('p256')), algorithm: 'ES384' }))).message,
      ).toMatch(/expected an EC secp384r1 public key for ES384/);
    });

    it('refuses a reference without module-path or pin-source', async () => {
      const uri = parsePkcs11Uri(token.uri('p256'));
      expect((await refusalOf(create({ uri: { ...uri, modulePath: undefined } }))).message).toMatch(
        /needs module-path=/,
      );
      expect((await refusalOf(create({ uri: { ...uri, pinSource: undefined } }))).message).toMatch(
        /needs pin-source=file:/,
      );
    });

    it('refuses a module path that is not a PKCS#11 module', async () => {
      const error = await refusalOf(
        create({ uri: parsePkcs11Uri(token.uri('p256', { modulePath: `${token.dir}/none.so` })) }),
      );
      expect(error).toBeInstanceOf(KeyConfigError);
      expect(error.message).toMatch(/cannot load the module .*none\.so/);
    });
  });

  describe('when the key pair disappears after start-up', () => {
    it('answers upstream_unavailable (kms) and fails its readiness probe', async () => {
      const ref = parseKeyRef(token.uri('p384'));
      if (ref.scheme !== 'pkcs11') throw new Error('expected a pkcs11 reference');
      const signer = await create({ uri: ref.uri });
      destroyKeyPair(token, '02');
      // Sessions opened before still hold the key's handle: close them so the next sign looks again.
      closeAllSessions();
      const error = await refusalOf(signer.sign(data));
      expect(error).toBeInstanceOf(SignerError);
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'kms' });
      expect(error.message).toMatch(/no private key object with id=02/);
      await expect(signer.probe()).rejects.toThrow(/no private key object with id=02/);
    });
  });
});

/** Deletes the key pair with `idHex` through a separate, logged-in handle on the same module. */
function destroyKeyPair(token: SoftHsmToken, idHex: string): void {
  const other = new PKCS11();
  other.load(SOFTHSM_MODULE);
  const [slot] = other.C_GetSlotList(true);
  const session = other.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
  try {
    const pin = readFileSync(token.pinFile, 'utf8').trim();
    try {
      other.C_Login(session, pkcs11.CKU_USER, pin);
    } catch (error) {
      if ((error as Error).message !== 'CKR_USER_ALREADY_LOGGED_IN') throw error;
    }
    for (const cls of [pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY]) {
      other.C_FindObjectsInit(session, [
        { type: pkcs11.CKA_CLASS, value: cls },
        { type: pkcs11.CKA_ID, value: Buffer.from(idHex, 'hex') },
      ]);
      const found = other.C_FindObjects(session, 10);
      other.C_FindObjectsFinal(session);
      for (const handle of found) other.C_DestroyObject(session, handle);
    }
  } finally {
    other.C_CloseSession(session);
    other.close();
  }
}

function closeAllSessions(): void {
  const other = new PKCS11();
  other.load(SOFTHSM_MODULE);
  const [slot] = other.C_GetSlotList(true);
  other.C_CloseAllSessions(slot);
  other.close();
}
