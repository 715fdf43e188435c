import { assertBucket } from "../../server/bucket/context.js";
import { createJob } from "../../server/scaffold/create-job.js";
import { EXAMPLE_HOOK } from "../../server/scaffold/job-files.js";

/**
 * `maand job <verb>`. create only touches the workspace (what operators edit by hand anyway),
 * never the catalog, so it does not take the bucket lock.
 */
export async function create(bucket: string, job: string, opts: { selectors?: string }): Promise<number> {
  const paths = assertBucket(bucket);
  const created = createJob(paths, job, opts.selectors);
  const labels = created.selectors.join(", ");
  console.log(
    [
      `created job ${created.job} in ${created.dir}:`,
      ...created.files.map((f) => `  ${f.path}`),
      `it is placed on workers labelled ${labels} (workspace/workers.json); then:`,
      `  maand build`,
      `  maand hooks ${EXAMPLE_HOOK} ${created.job} --verbose`,
    ].join("\n"),
  );
  return 0;
}
