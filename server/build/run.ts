import { readFileSync } from "node:fs";
import type { BucketContext } from "../bucket/context.js";
import { BucketError, MaandError } from "../errors.js";
import { formatProblem } from "../workspace/errors.js";
import { readWorkspace } from "../workspace/read.js";
import { placeJobs } from "./allocate.js";
import { applyBuild } from "./apply.js";
import { certKey, type CertValues } from "./kv-desired.js";
import type { CertPlan } from "./certs.js";
import { destructiveReason, planBuild, type BuildSummary } from "./plan.js";
import { readBuildState } from "./snapshot.js";
import { recordBuiltFiles } from "./stale.js";

export interface BuildResult {
  summary: BuildSummary & { certs: { issued: number; reused: number } };
  /** Nothing was written (--dry-run): the summary is what the build would do. */
  dryRun: boolean;
  /** The build's clock reading: created_at of every KV row it wrote. */
  now: number;
  /** Workspace warnings (formatted): things the build accepted but the user should look at. */
  warnings: string[];
}

/**
 * Called once the build's transaction has committed, with the same context (lock still held).
 * THE SEAM for the hook engine: `maand build` passes a callback that runs the `post_build` hooks
 * in deployment_seq order and persists their KV writes in a separate transaction. A throw here
 * fails the command, but the committed build stays (SPEC §5: hooks run after the build).
 */
export type AfterBuildCommit = (ctx: BucketContext, result: BuildResult) => Promise<void>;

export interface RunBuildOptions {
  afterCommit?: AfterBuildCommit;
  /** Plan only: nothing is written, no certificate is issued, the result says what would change. */
  dryRun?: boolean;
  /** The operator confirmed a build that removes more than half of the allocations or every worker. */
  yes?: boolean;
}

/** A build refused because it would remove most of what runs (see destructiveReason). */
export class DestructiveBuildRefused extends MaandError {
  constructor(reason: string) {
    super(`build refused: ${reason}; run 'maand build --dry-run' to see the plan, and 'maand build --yes' if that is what you want`);
  }
}

/**
 * `maand build`: read and validate the workspace (nothing is written when it is invalid),
 * snapshot catalog + KV, issue the certificates that are due, plan, apply in one transaction,
 * then hand over to afterCommit.
 */
export async function runBuild(ctx: BucketContext, options: RunBuildOptions = {}): Promise<BuildResult> {
  if (ctx.readonly && !options.dryRun) throw new MaandError("build needs a writable bucket (opened read-only)");
  const workspace = readWorkspace(ctx.paths, ctx.conf);
  const now = ctx.clock.now();
  const state = readBuildState(ctx.db, (row) => ctx.kv.decode(row));
  let caCertPem: string;
  try {
    caCertPem = readFileSync(ctx.paths.caCrt, "utf8");
  } catch (err) {
    throw new BucketError(`cannot read the bucket CA certificate ${ctx.paths.caCrt}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }

  let certs: CertValues = new Map();
  let issued = 0;
  const placed = placeJobs(workspace);
  if (placed.some((p) => p.job.certs.length > 0 && p.placements.length > 0)) {
    // x509 is a heavy import; only builds with certs pay for it.
    const [{ loadCa }, { planCerts, issueCerts }] = await Promise.all([import("../certs/leaf.js"), import("./certs.js")]);
    const ca = await loadCa(ctx.paths.caCrt, ctx.paths.caKey);
    const policy = { ttlDays: ctx.conf.certs_ttl, renewalBufferDays: ctx.conf.certs_renewal_buffer };
    const certPlan = planCerts(placed, state.kv, ca, policy, now);
    issued = certPlan.issue.length;
    // A dry run issues nothing: a placeholder stands in for each new pair, so the KV counts are right.
    certs = options.dryRun ? placeholderCerts(certPlan) : await issueCerts(ca, certPlan, policy, now);
  }

  const plan = planBuild({ workspace, state, now, caCertPem, certs });
  const result: BuildResult = {
    summary: { ...plan.summary, certs: { issued, reused: certs.size - issued } },
    dryRun: options.dryRun ?? false,
    now,
    warnings: workspace.warnings.map(formatProblem),
  };
  if (options.dryRun) return result;
  const destructive = destructiveReason(plan.summary);
  if (destructive && !options.yes) throw new DestructiveBuildRefused(destructive);
  recordBuiltFiles(ctx.paths, workspace.jobs, applyBuild(ctx.db, ctx.kv, plan));
  await options.afterCommit?.(ctx, result);
  return result;
}

function placeholderCerts(plan: CertPlan): CertValues {
  const out: CertValues = new Map(plan.reuse);
  for (const req of plan.issue) out.set(certKey(req.job, req.ip, req.name), { crt: "(issued by the build)", key: "(issued by the build)" });
  return out;
}
