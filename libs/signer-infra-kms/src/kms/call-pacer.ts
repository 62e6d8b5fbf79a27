/**
 * Called before every remote signing call; resolves when the call may start. The app wires a
 * {@link import('@signer/core').RateShaper} behind it for keys with `maxRps`; it may refuse with
 * `plan_throttled`.
 */
export type CallPacer = () => Promise<void>;

export const unpaced: CallPacer = async () => undefined;
