import type { Clock } from "../../server/store/clock.js";

/** A clock tests move by hand: TTL expiry and certificate renewal without sleeping. */
export type ManualClock = Clock & { advance(ms: number): void; set(ms: number): void };

export function manualClock(start = Date.UTC(2030, 0, 1)): ManualClock {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms), set: (ms) => void (now = ms) };
}
