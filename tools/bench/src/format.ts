// Number formats of the printed report.
export const int = (value: number): string => Math.round(value).toLocaleString('en-US');
export const ms = (value: number): string => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
export const pct = (value: number): string => `${Math.round(value * 100)} %`;
export const share = (value: number | undefined): string => (value === undefined ? '—' : pct(value));
