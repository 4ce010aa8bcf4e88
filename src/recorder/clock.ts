/** The time source of everything that stamps or schedules: injectable so tests control it. */
export interface Clock {
  now(): Date;
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date() };
