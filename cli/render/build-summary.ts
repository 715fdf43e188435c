import type { BuildResult } from "../../server/build/run.js";
import { escapeText } from "../../server/text/escape.js";

const delta = (c: { added: number; removed: number; changed: number }) => `+${c.added} added, -${c.removed} removed, ~${c.changed} changed`;

/**
 * What a build did (or, with --dry-run, would do): totals, then the allocations it adds,
 * removes, disables, re-enables or moves to a new version, named, and the KV rows it writes.
 */
export function renderBuildSummary({ summary: s, dryRun }: BuildResult): string {
  const t = s.totals;
  const a = s.allocations;
  const rows: Array<[string, string]> = [
    ["workers", `${t.workers}  (${delta(s.workers)})`],
    ["jobs", `${t.jobs}  (${delta(s.jobs)})`],
    [
      "allocations",
      `${t.active} active, ${t.disabled} disabled, ${t.removed} removed  ` +
        `(+${a.added} added, -${a.removed} removed, ${a.disabled} disabled, ${a.enabled} re-enabled, ${a.version_changed} version changed, ${a.restored} restored)`,
    ],
    ["kv", `${s.kv.written} written, ${s.kv.tombstoned} tombstoned`],
    ["certs", `${s.certs.issued} ${dryRun ? "to issue" : "issued"}, ${s.certs.reused} reused`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = [dryRun ? "build plan (--dry-run: nothing was written)" : "build committed", ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)];
  if (dryRun) {
    const named: Array<[string, string[]]> = [
      ["added", s.changes.added],
      ["removed", s.changes.removed],
      ["disabled", s.changes.disabled],
      ["re-enabled", s.changes.enabled],
      ["version changed", s.changes.version_changed],
      ["restored", s.changes.restored],
    ];
    for (const [what, list] of named) if (list.length) lines.push(`  ${what}: ${list.join(" ")}`);
  }
  return lines.map(escapeText).join("\n");
}

/** `maand build --json`: the same, snake_case. */
export function buildJson({ summary: s, dryRun, warnings }: BuildResult) {
  return {
    dry_run: dryRun,
    committed: !dryRun,
    totals: s.totals,
    workers: s.workers,
    jobs: s.jobs,
    allocations: { ...s.allocations, changes: { ...s.changes } },
    kv: s.kv,
    certs: s.certs,
    warnings,
  };
}
