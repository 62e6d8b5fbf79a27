/** One challenge of a `WWW-Authenticate` header: the scheme (lower case) and its parameters. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
/** Bounds the parse on a hostile header; real ones have one challenge with three parameters. */
const MAX_HEADER_LENGTH = 8192;

/**
 * Parses `WWW-Authenticate` (RFC 9110 §11.6.1): `Bearer realm="…",service="…",scope="…"`, possibly
 * several challenges in one header. Anything it cannot read ends the parse; what was read stays.
 */
export function parseChallenges(header: string | null): AuthChallenge[] {
  if (!header || header.length > MAX_HEADER_LENGTH) return [];
  const challenges: AuthChallenge[] = [];
  let rest = header.trim();
  let current: AuthChallenge | undefined;
  while (rest.length > 0) {
    const name = TOKEN.exec(rest)?.[0];
    if (!name) break;
    rest = rest.slice(name.length);
    const equals = /^\s*=\s*/.exec(rest);
    if (current && equals) {
      rest = rest.slice(equals[0].length);
      const value = readValue(rest);
      if (!value) break;
      current.params[name.toLowerCase()] = value.value;
      rest = value.rest;
    } else {
      current = { scheme: name.toLowerCase(), params: {} };
      challenges.push(current);
      rest = rest.trimStart();
    }
    rest = rest.replace(/^\s*,\s*/, '');
  }
  return challenges;
}

function readValue(input: string): { value: string; rest: string } | undefined {
  if (!input.startsWith('"')) {
    const token = TOKEN.exec(input)?.[0];
    return token ? { value: token, rest: input.slice(token.length) } : undefined;
  }
  let value = '';
  for (let i = 1; i < input.length; i += 1) {
    const char = input[i];
    if (char === '\\' && i + 1 < input.length) {
      value += input[i + 1];
      i += 1;
    } else if (char === '"') {
      return { value, rest: input.slice(i + 1) };
    } else {
      value += char;
    }
  }
  return undefined;
}
