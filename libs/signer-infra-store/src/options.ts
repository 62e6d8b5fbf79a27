/**
 * Constructor options are validated once, at wiring time, so a bad configuration stops the
 * process at boot instead of surfacing as odd behaviour under load.
 */
export function requirePositiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name}: expected a positive integer, got ${String(value)}`);
  }
  return value;
}

export function requirePositiveNumber(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name}: expected a positive finite number, got ${String(value)}`);
  }
  return value;
}
