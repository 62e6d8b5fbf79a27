/** The longest caller-influenced string an audit record or log line keeps (UTF-16 code units). */
export const MAX_RECORDED_TEXT = 256;

/**
 * A string as a record may hold it: well-formed UTF-16 (a lone surrogate has no UTF-8 form, so the
 * record could not be hashed or stored) and at most `max` code units, a cut marked with `…`.
 * Strings that already fit are returned as they are, at the cost of one length check and one scan.
 */
export function boundedText(value: string, max = MAX_RECORDED_TEXT): string {
  const fits = value.length <= max;
  if (fits && value.isWellFormed()) return value;
  const cut = fits ? value : `${value.slice(0, max - 1)}…`;
  return cut.toWellFormed();
}

/**
 * Whether a text holds a control character (C0 incl. NUL, DEL, C1): such a text could forge lines
 * in logs or the CLI's output, and PostgreSQL `jsonb` cannot store NUL. Identity claims, ceremony
 * texts and keys are refused with one.
 */
export function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}
