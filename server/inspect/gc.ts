import { UsageError } from "../errors.js";

/** `maand gc --retain-days N`: how many days of KV history and run logs gc keeps by default. */
export const DEFAULT_RETAIN_DAYS = 7;

export function parseRetainDays(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_RETAIN_DAYS;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`--retain-days ${JSON.stringify(raw)}: expected a non-negative integer number of days`);
  }
  return Number(raw);
}
