import { MaandError } from "../errors.js";
import { NamespaceDenied } from "../kv/access.js";
import { parseNamespace } from "../kv/namespaces.js";
import type { TemplateError } from "../templates/render.js";

/**
 * A job's template could not be rendered for one allocation: the job fails before anything of
 * it is synced. The message is the engine's (file:line:column, the action, the function, the
 * key and namespace; secret values already replaced) plus where to fix a missing key. The
 * engine's error is deliberately not kept as `cause`: its chain may hold a function's own
 * message, which can contain a value.
 */
export class TemplateRenderFailed extends MaandError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly function?: string;
  readonly key?: string;
  readonly namespace?: string;

  constructor(
    readonly job: string,
    readonly workerIp: string,
    error: TemplateError,
  ) {
    const fix = missingKeyFix(job, error);
    super(`template error on ${workerIp}: ${error.message}${fix ? `; ${fix}` : ""}`);
    this.file = error.file;
    this.line = error.line;
    this.column = error.column;
    this.function = error.function;
    this.key = error.key;
    this.namespace = error.namespace;
  }

  /** What `--json` and the dry-run plan carry besides the message. */
  details(): TemplateProblem {
    return {
      worker_ip: this.workerIp,
      message: this.message,
      file: this.file,
      line: this.line,
      column: this.column,
      ...(this.function ? { function: this.function } : {}),
      ...(this.key !== undefined ? { key: this.key } : {}),
      ...(this.namespace !== undefined ? { namespace: this.namespace } : {}),
    };
  }

  override jsonDetail(): unknown {
    return this.details();
  }
}

/** One allocation's template error as plans and JSON show it. */
export interface TemplateProblem {
  worker_ip: string;
  message: string;
  file: string;
  line: number;
  column: number;
  function?: string;
  key?: string;
  namespace?: string;
}

/** Where the value a `get`/`getSecret` did not find comes from; undefined for other errors. */
function missingKeyFix(job: string, e: TemplateError): string | undefined {
  if (e.key === undefined || e.namespace === undefined || e.cause instanceof NamespaceDenied) return undefined;
  if (e.function !== "get" && e.function !== "getSecret") return undefined;
  const where = (() => {
    switch (parseNamespace(e.namespace)?.kind) {
      case "jobVars":
        return `set ${e.key} in workspace/jobs/${job}/vars.toml (then maand build) or with a hook's put_job_variable`;
      case "bucketVars":
        return `set ${e.key} in workspace/bucket.conf (then maand build)`;
      case "bucketJobVars":
        return `set ${e.key} in section [${job}] of workspace/bucket.jobs.conf (then maand build)`;
      case "jobSecrets":
        return `write ${e.key} with put_job_secret in a pre_deploy hook (it runs before rendering)`;
      default:
        return `${e.namespace} has no key ${e.key}`;
    }
  })();
  return `fix: ${where}, or read it with getOptional when it may be absent`;
}

/**
 * `maand deploy --dry-run` found templates that do not render (it renders with the committed
 * KV and runs no hook): every error, per job. Exit 1 after the plan was printed.
 */
export class PlannedTemplateErrors extends MaandError {
  constructor(readonly jobs: ReadonlyArray<{ job: string; errors: readonly TemplateProblem[]; has_pre_deploy: boolean }>) {
    const lines = [
      `dry run: the templates of ${jobs.length} job${jobs.length === 1 ? "" : "s"} (${jobs.map((j) => j.job).join(", ")}) do not render; ` +
        `a deploy fails ${jobs.length === 1 ? "that job" : "each of them"} before syncing anything of it:`,
    ];
    for (const j of jobs) {
      for (const e of j.errors) lines.push(`  job ${j.job}: ${e.message}`);
      if (j.has_pre_deploy) lines.push(`  (job ${j.job} has pre_deploy hooks: what they would write is not visible to a dry run, which runs no hook)`);
    }
    super(lines.join("\n"));
  }

  /** The plan's template errors, or undefined when every template rendered. */
  static of(plan: { waves: ReadonlyArray<{ jobs: ReadonlyArray<{ job: string; template_errors?: TemplateProblem[]; hooks: Record<string, string[]> }> }> }): PlannedTemplateErrors | undefined {
    const jobs = plan.waves.flatMap((w) => w.jobs.filter((j) => j.template_errors?.length).map((j) => ({ job: j.job, errors: j.template_errors!, has_pre_deploy: (j.hooks.pre_deploy?.length ?? 0) > 0 })));
    return jobs.length ? new PlannedTemplateErrors(jobs) : undefined;
  }

  override jsonDetail(): unknown {
    return { jobs: this.jobs };
  }
}
