/** The one source of "now" for billing code, so a test clock can move it for every process. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
