import type { Writable } from "node:stream";
import type { DeployReporter } from "../../server/deploy/reporter.js";
import type { StepRecord } from "../../server/rollout/events.js";
import { escapeText } from "../../server/text/escape.js";

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

const where = (r: Pick<StepRecord, "phase" | "batch_index" | "batch_count">) => (r.phase ? ` (${r.phase} ${r.batch_index + 1}/${r.batch_count})` : "");

/** One line per allocation x step, as it ends: what a pipe (or a log file) gets. */
export function stepLine(r: StepRecord): string {
  const what = `${r.worker} ${r.job} ${r.step} ${r.name}${r.event && r.event !== r.name ? ` [${r.event}]` : ""}${where(r)}`;
  const why = r.status === "ok" || r.status === "skipped" ? "" : `: ${r.error ?? r.status}${r.exit_code !== null && r.exit_code !== 0 ? ` (exit code ${r.exit_code})` : ""}`;
  return `  ${r.status.padEnd(11)} ${what} ${r.status === "skipped" ? "-" : seconds(r.duration_ms)}${why}`;
}

/** Plain lines (a pipe, --json's stderr, --verbose). */
export function plainDeployProgress(out: Writable, verbose: boolean): DeployReporter {
  const say = (s: string) => out.write(`${escapeText(s)}\n`);
  return {
    runStart: (plan, runId) =>
      say(`deploy ${runId}: ${plan.waves.length} wave(s), ${plan.waves.reduce((n, w) => n + w.jobs.filter((j) => j.needs_work).length, 0)} job(s) with work, ${plan.workers.length} worker(s) to contact`),
    checked: (hosts) => hosts.length && say(`checked ${hosts.length} worker(s): bash, make, python3, timeout`),
    waveStart: (wave) => say(`wave ${wave.wave_index} (deployment_seq ${wave.deployment_seq}): ${wave.jobs.filter((j) => j.needs_work).map((j) => j.job).join(", ") || "nothing to do"}`),
    jobStart: (job) => say(`job ${job.job}:`),
    batchStart: (job, b) => say(`  ${job}: ${b.phase ? `${b.phase} ` : ""}batch ${b.batch_index + 1}/${b.batch_count} (${b.items.map((i) => `${i.worker_ip} ${i.target}`).join(", ")})`),
    stepEnd: (r) => say(stepLine(r)),
    output: verbose
      ? (r, lines) => {
          for (const l of lines) say(`[${r.worker} ${r.job} ${r.name}] ${l}`);
        }
      : undefined,
    warning: (text) => say(`warning: ${text}`),
    jobEnd: (j) => say(`job ${j.job}: ${j.status}${j.promoted.length ? `, promoted ${j.promoted.length}` : ""}${j.error ? ` (${j.error})` : ""}`),
  };
}

interface Cell {
  worker: string;
  what: string;
  state: string;
}

/**
 * Live progress on a TTY: a block redrawn in place (wave, job, stage, batch i/n and one line per
 * allocation with its current step and state); finished jobs leave one line above it.
 */
export function liveDeployProgress(out: Writable & { isTTY?: boolean }): DeployReporter & { done(): void } {
  let drawn = 0;
  let header = "";
  let cells: Cell[] = [];
  const block = () => [header, ...cells.map((c) => `  ${c.worker.padEnd(16)} ${c.what.padEnd(28)} ${c.state}`)].filter(Boolean);
  const erase = () => {
    if (drawn) out.write(`\x1b[${drawn}A\x1b[J`);
    drawn = 0;
  };
  const draw = () => {
    erase();
    const lines = block().map(escapeText);
    if (lines.length) out.write(`${lines.join("\n")}\n`);
    drawn = lines.length;
  };
  const permanent = (s: string) => {
    erase();
    out.write(`${escapeText(s)}\n`);
    draw();
  };
  let wave = "";
  let job = "";
  const cell = (worker: string, what: string): Cell => {
    let c = cells.find((x) => x.worker === worker);
    if (!c) cells.push((c = { worker, what, state: "" }));
    c.what = what;
    return c;
  };
  return {
    runStart: (_plan, runId) => permanent(`deploy ${runId}`),
    waveStart: (w) => {
      wave = `wave ${w.wave_index}`;
      header = wave;
      draw();
    },
    jobStart: (j) => {
      job = j.job;
      cells = [];
      header = `${wave}  job ${job}`;
      draw();
    },
    jobStage: (j, stage) => {
      header = `${wave}  job ${j}  ${stage}`;
      draw();
    },
    batchStart: (j, b) => {
      header = `${wave}  job ${j}  ${b.phase ? `${b.phase} ` : ""}batch ${b.batch_index + 1}/${b.batch_count}`;
      draw();
    },
    stepStart: (r) => {
      cell(r.worker, `${r.step} ${r.name}`).state = "running";
      draw();
    },
    stepEnd: (r) => {
      const c = cell(r.worker, `${r.step} ${r.name}`);
      c.state = r.status === "ok" ? `ok ${seconds(r.duration_ms)}` : `${r.status}${r.error ? `: ${r.error}` : ""}`;
      if (r.status === "failed" || r.status === "timeout") permanent(stepLine(r));
      else draw();
    },
    warning: (text) => permanent(`warning: ${text}`),
    jobEnd: (j) => {
      cells = [];
      header = wave;
      permanent(`job ${j.job}: ${j.status}${j.promoted.length ? `, promoted ${j.promoted.length}` : ""}${j.error ? ` (${j.error})` : ""}`);
    },
    runEnd: () => {
      header = "";
      cells = [];
      draw();
    },
    done: () => erase(),
  };
}
