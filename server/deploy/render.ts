import { createHash } from "node:crypto";
import { bucketId, upstreamJobs } from "../store/catalog.js";
import type { Db } from "../store/db.js";
import { parseTemplate, TemplateError, type ParsedTemplate, type TemplateData } from "../templates/render.js";
import type { SyncFile } from "../workers/sync-plan.js";
import { TemplateRenderFailed } from "./template-errors.js";
import { jobTemplateData } from "./template-data.js";
import { templateKv } from "./template-kv.js";
import type { RenderInput, RenderStep } from "./stage.js";
import { hasTemplates, isTemplatePath, renderedPath } from "./template-files.js";

/** What one job's renders share: each template parsed once, the dot's catalog facts read once. */
interface JobTemplates {
  parsed: Map<string, ParsedTemplate | TemplateError>;
  data: (workerIp: string) => TemplateData | undefined;
  upstream: () => readonly string[];
}

/**
 * Deploy's render step (SPEC §12, the seam of stage.ts): every `*.tpl` job file is rendered
 * for the allocation, with Go text/template semantics, into the file without `.tpl`, same mode
 * (it replaces a job file of that name); the `.tpl` itself is not synced. The KV it reads is
 * the one the caller passes (the committed store when planning, the deploy session's after
 * pre_deploy), under the hook read rules. Files without templates come back as they are, at no
 * cost. One step serves a whole deploy, planning and applying: each template is parsed once
 * (a parse error too is kept and rethrown), then executed per allocation.
 * Throws TemplateRenderFailed.
 */
export function templateRender(db: Db): RenderStep {
  const jobs = new Map<string, JobTemplates>();
  let bucket: string | undefined;
  const jobTemplates = (job: string): JobTemplates => {
    let j = jobs.get(job);
    if (!j) {
      let upstream: readonly string[] | undefined;
      j = { parsed: new Map(), data: jobTemplateData(db, (bucket ??= bucketId(db)), job), upstream: () => (upstream ??= upstreamJobs(db, job)) };
      jobs.set(job, j);
    }
    return j;
  };

  return (input: RenderInput): SyncFile[] => {
    if (!hasTemplates(input.files)) return [...input.files];
    const j = jobTemplates(input.job);
    const data = j.data(input.workerIp);
    if (!data) throw new Error(`job ${input.job} has no allocation on ${input.workerIp} in the catalog; run 'maand build'`);
    const kv = templateKv(input.kv, { job: input.job, workerIp: input.workerIp }, j.upstream);
    const rendered = input.files.filter((f) => isTemplatePath(f.path)).map((f) => {
      const template = parsedOnce(j.parsed, f);
      let text: string;
      try {
        if (template instanceof TemplateError) throw template;
        text = template.execute({ data, kv, ownJob: input.job });
      } catch (e) {
        if (e instanceof TemplateError) throw new TemplateRenderFailed(input.job, input.workerIp, e);
        throw e;
      }
      const content = Buffer.from(text);
      return { path: renderedPath(f.path), mode: f.mode, hash: createHash("sha256").update(content).digest("hex"), content };
    });
    const outputs = new Set(rendered.map((r) => r.path));
    return [...input.files.filter((f) => !isTemplatePath(f.path) && !outputs.has(f.path)), ...rendered];
  };
}

function parsedOnce(cache: Map<string, ParsedTemplate | TemplateError>, f: SyncFile): ParsedTemplate | TemplateError {
  // Keyed by content too: a job file that changed between plan and apply is parsed again.
  const id = `${f.path}\0${f.hash}`;
  let t = cache.get(id);
  if (!t) {
    try {
      t = parseTemplate(f.content.toString("utf8"), f.path);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      t = e;
    }
    cache.set(id, t);
  }
  return t;
}
