import semver from "semver";

const VERSION_LIKE = /^[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/;

export const DEFAULT_VERSION = "0.0.0";
export const VERSION_EXPECTED = 'a semver-like version such as "1.2.0", "v2.1" or "3"';

/** "v2.1" -> "2.1.0", "3" -> "3.0.0"; undefined for anything that is not semver-like. */
export function normalizeVersion(raw: string): string | undefined {
  const m = VERSION_LIKE.exec(raw.trim());
  if (!m) return undefined;
  const candidate = `${m[1]}.${m[2] ?? "0"}.${m[3] ?? "0"}${m[4]}`;
  return semver.valid(candidate) ?? undefined;
}

export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b);
}
