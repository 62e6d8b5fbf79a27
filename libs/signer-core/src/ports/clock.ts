/** The time source. Every policy that reads time takes it from here so tests can pin it. */
export interface Clock {
  /** Current UTC instant. */
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
