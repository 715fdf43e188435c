import type { BuildResult } from "../../server/build/run.js";

const delta = (c: { added: number; removed: number; changed: number }) => `+${c.added} added, -${c.removed} removed, ~${c.changed} changed`;

export function renderBuildSummary({ summary: s }: BuildResult): string {
  const t = s.totals;
  const rows: Array<[string, string]> = [
    ["workers", `${t.workers}  (${delta(s.workers)})`],
    ["jobs", `${t.jobs}  (${delta(s.jobs)})`],
    [
      "allocations",
      `${t.active} active, ${t.disabled} disabled, ${t.removed} removed  (${delta(s.allocations)}, ${s.allocations.restored} restored)`,
    ],
    ["kv", `${s.kv.written} written, ${s.kv.tombstoned} tombstoned`],
    ["certs", `${s.certs.issued} issued, ${s.certs.reused} reused`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return ["build committed", ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join("\n");
}
