import { readFile } from 'node:fs/promises';
import { KeyConfigError } from '../errors';
import type { Pkcs11Module } from './pkcs11-module';
import type { Pkcs11Uri } from './pkcs11-uri';

/**
 * Reads the user PIN from `pin-source`. One trailing newline is dropped (what `echo` and most
 * secret mounts write); the PIN itself never reaches a message, a log or an error.
 */
export async function readPinFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new KeyConfigError(`pkcs11: cannot read the PIN file ${path}`, { cause });
  }
  const pin = text.replace(/\r?\n$/, '');
  if (pin.length === 0 || /[\r\n]/.test(pin)) {
    throw new KeyConfigError(`pkcs11: the PIN file ${path} is empty or holds more than one line`);
  }
  return pin;
}

// CK_TOKEN_INFO fields are blank-padded fixed-width strings.
const TOKEN_FIELDS = [
  ['token', 'label'],
  ['manufacturer', 'manufacturerID'],
  ['serial', 'serialNumber'],
  ['model', 'model'],
] as const;

/**
 * The slot holding the one token that matches every token attribute of the URI (all tokens match
 * a URI with none). None or several is a configuration error: signing with a token nobody named
 * would be worse than not starting.
 */
export function findTokenSlot(module: Pkcs11Module, uri: Pkcs11Uri, what: string): Buffer {
  const { api } = module;
  const matches: Buffer[] = [];
  const seen: string[] = [];
  for (const slot of api.C_GetSlotList(true)) {
    const info = api.C_GetTokenInfo(slot);
    seen.push(JSON.stringify(info.label.trimEnd()));
    const match = TOKEN_FIELDS.every(([attr, field]) => {
      const wanted = uri[attr];
      return wanted === undefined || info[field].trimEnd() === wanted;
    });
    if (match) matches.push(slot);
  }
  if (matches.length === 1) return matches[0];
  const named = TOKEN_FIELDS.filter(([attr]) => uri[attr] !== undefined)
    .map(([attr]) => `${attr}=${JSON.stringify(uri[attr])}`)
    .join(' ');
  throw new KeyConfigError(
    matches.length === 0
      ? `${what}: no initialised token matches ${named || '(any)'} in ${module.path} (tokens: ${seen.join(', ') || 'none'})`
      : `${what}: ${matches.length} tokens match ${named || '(any)'}; name the token (token=, serial=)`,
  );
}
