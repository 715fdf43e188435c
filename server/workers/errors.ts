import { EXIT, MaandError } from "../errors.js";

/** How a worker could not be used; lets deploy tell "down" from "misconfigured" without parsing text. */
export type UnreachableKind = "refused" | "timeout" | "auth" | "host-key" | "lost" | "dns" | "error";

/**
 * A worker could not be reached or the connection broke. Always names the worker; `reason`
 * says what the operator must look at (the daemon, the network, the key, the host key).
 */
export class WorkerUnreachable extends MaandError {
  constructor(
    readonly host: string,
    readonly reason: string,
    readonly kind: UnreachableKind = "error",
    options?: { cause?: unknown },
  ) {
    super(`worker ${host} unreachable: ${reason}`, EXIT.unreachable, options);
  }
}

/**
 * The worker presented a host key other than the one recorded on first contact: either the
 * host was reinstalled or someone is in the middle. Never accepted automatically.
 */
export class HostKeyChanged extends WorkerUnreachable {
  constructor(
    host: string,
    readonly knownFingerprint: string,
    readonly presentedFingerprint: string,
    readonly knownHostsFile: string,
  ) {
    super(
      host,
      `host key changed: ${knownHostsFile} has ${knownFingerprint} but the worker presented ${presentedFingerprint}; ` +
        `if the worker was reinstalled, remove its line from ${knownHostsFile} and retry`,
      "host-key",
    );
  }
}

/** Ctrl-C (or another abort) stopped a remote command; the remote process group was signalled. */
export class CommandInterrupted extends MaandError {
  constructor(readonly host: string, readonly command: string) {
    super(`interrupted: stopped \`${command}\` on ${host}`, EXIT.interrupted);
  }
}

/** A worker lacks what deploy needs; every worker and every missing piece is listed. */
export class WorkerCheckFailed extends MaandError {
  constructor(readonly problems: ReadonlyArray<{ host: string; problems: readonly string[] }>) {
    super(
      `${problems.length} worker${problems.length === 1 ? "" : "s"} not ready, nothing was changed:\n` +
        problems.map((p) => `  ${p.host}: ${p.problems.join("; ")}`).join("\n"),
    );
  }
}

/** The files handed to sync cannot be placed on a worker (bad path, protected directory). */
export class SyncInputError extends MaandError {
  constructor(readonly job: string, readonly problems: readonly string[]) {
    super(`job ${job}: cannot sync:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
}

/** The worker-side step of a sync or a runner call failed (disk full, permissions, bad state). */
export class WorkerStepFailed extends MaandError {
  constructor(readonly host: string, readonly step: string, readonly detail: string) {
    super(`worker ${host}: ${step} failed: ${detail}`);
  }
}

/**
 * A command that ended with neither an exit status nor a signal, and did not time out: the
 * channel (or the whole connection) went away under it, as when the worker's sshd dies. That is
 * the worker being unreachable, not the step failing on a healthy worker.
 */
export function assertNotLost(host: string, step: string, r: { exitCode: number | null; signal: string | null; timedOut: boolean }): void {
  if (r.exitCode === null && r.signal === null && !r.timedOut) {
    throw new WorkerUnreachable(host, `the connection was lost during ${step}`, "lost");
  }
}
