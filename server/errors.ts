/**
 * maand's exit statuses, defined once (documented in `maand --help` and the README):
 * 1 invalid workspace or another failure, 2 usage error or not a bucket, 3 a hook or a deploy
 * step failed, 4 a worker unreachable, 130 interrupted (Ctrl-C, SIGTERM, a closed terminal).
 */
export const EXIT = {
  failure: 1,
  usage: 2,
  stepFailed: 3,
  unreachable: 4,
  interrupted: 130,
} as const;

/**
 * Errors a user can act on. Every module throws a subclass (or MaandError itself) carrying
 * what the user must fix; the CLI prints `message` on one line and exits with `exitCode`.
 * Anything that is not a MaandError is a bug and is printed with its stack.
 */
export class MaandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Stable machine-readable code: the error class, e.g. HOOK_RUN_FAILED, WORKER_UNREACHABLE. */
  get code(): string {
    return this.name.replace(/Error$/, "").replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase() || "MAAND";
  }

  /** What a script needs besides the message (the problems of a workspace, failed allocations); override per error. */
  jsonDetail(): unknown {
    return undefined;
  }

  /** `{message, code, detail}` as `--json` prints errors on stderr. */
  toJson(): { message: string; code: string; detail?: unknown } {
    const detail = this.jsonDetail();
    return { message: this.message, code: this.code, ...(detail === undefined ? {} : { detail }) };
  }
}

/** The command was run where there is no bucket, or the bucket is damaged. Exit 2. */
export class BucketError extends MaandError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.usage, options);
  }
}

/** Another maand process holds the bucket lock. */
export class BucketLockedError extends MaandError {
  constructor(readonly holderPid: number, lockFile: string) {
    super(`bucket is locked by another maand process (pid ${holderPid}); lock file ${lockFile}`, 1);
  }
}

/** Bad command-line usage (bad flag value etc.). Exit 2. */
export class UsageError extends MaandError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}
