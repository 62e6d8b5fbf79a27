/**
 * The comparable form of an `htu` (RFC 9449 §4.3 step 9): scheme and host lower-cased, default
 * port dropped, query and fragment ignored, path compared as given (after URL parsing).
 * Returns null for anything that is not an absolute http(s) URL.
 */
export function normalizeHtu(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password) return null;
  return `${url.protocol}//${url.host}${url.pathname}`;
}
