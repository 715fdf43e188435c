/**
 * Errors a user can act on. Every module throws a subclass (or MaandError itself) carrying
 * what the user must fix; the CLI prints `message` on one line and exits with `exitCode`.
 * Anything that is not a MaandError is a bug and is printed with its stack.
 */
export class MaandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command was run where there is no bucket, or the bucket is damaged. Exit 2. */
export class BucketError extends MaandError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 2, options);
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
    super(message, 2);
  }
}
