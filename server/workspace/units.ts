/** Worker capacity sizes from workers.json: "8192 mb", "4 GB", "4000 mhz", "2.4ghz", or a bare number. */

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/;

const MEMORY_TO_MB: Record<string, number> = { "": 1, kb: 1 / 1024, mb: 1, gb: 1024, tb: 1024 * 1024 };
const CPU_TO_MHZ: Record<string, number> = { "": 1, mhz: 1, ghz: 1000 };

export const MEMORY_EXPECTED = 'expected a memory size like "8192 mb" (units kb, mb, gb, tb; a bare number means mb)';
export const CPU_EXPECTED = 'expected a CPU speed like "4000 mhz" (units mhz, ghz; a bare number means mhz)';

function parse(value: unknown, factors: Record<string, number>): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = SIZE.exec(value);
  if (!m) return undefined;
  const factor = factors[m[2].toLowerCase()];
  return factor === undefined ? undefined : Number(m[1]) * factor;
}

export function parseMemoryMb(value: unknown): number | undefined {
  return parse(value, MEMORY_TO_MB);
}

export function parseCpuMhz(value: unknown): number | undefined {
  return parse(value, CPU_TO_MHZ);
}
