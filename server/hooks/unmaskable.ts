import { namespaceOwner } from "../kv/namespaces.js";
import { escapeText } from "../text/escape.js";
import { MIN_SECRET_LENGTH, type UnmaskableSecret } from "./redaction.js";
import type { HookReporter } from "./reporter.js";
import type { InvocationLog } from "./run-logs.js";

/** The invocations running right now, for maand's own lines in their logs. */
export type RunningInvocations = Map<string, { job: string; log: InvocationLog }>;

/**
 * A hook stored a secret too short to mask (see MIN_SECRET_LENGTH): say so, without the value,
 * in the logs of the job's running invocations (the API call does not say which one wrote it;
 * with one running, that is the one) and on the console.
 */
export function warnUnmaskable(s: UnmaskableSecret, running: RunningInvocations, reporter: HookReporter | undefined): void {
  const job = namespaceOwner(s.namespace).job ?? "";
  const text =
    `job ${escapeText(job)}: a hook stored secret ${escapeText(JSON.stringify(s.key))} in ${escapeText(s.namespace)}, ${s.length} characters long; ` +
    `secrets shorter than ${MIN_SECRET_LENGTH} characters cannot be masked in hook output and logs: use a longer value`;
  for (const r of running.values()) if (r.job === job) r.log.write("maand", [`warning: ${text}`]);
  reporter?.warning?.(text);
}
