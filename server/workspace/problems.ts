import { WorkspaceValidationError, type WorkspaceProblem } from "./errors.js";

/**
 * Collects problems across the whole read so the user sees all of them at once
 * (one instance per readWorkspace call, passed down explicitly).
 */
export class Problems {
  readonly list: WorkspaceProblem[] = [];
  /** Worth telling the user, not worth refusing the build for (e.g. a stale disabled.json entry). */
  readonly warnings: WorkspaceProblem[] = [];

  warn(file: string, path: string, expected: string, value?: unknown): void {
    this.warnings.push(value === undefined ? { file, path, expected } : { file, path, value, expected });
  }

  add(file: string, path: string, expected: string, value?: unknown): void {
    this.list.push(value === undefined ? { file, path, expected } : { file, path, value, expected });
  }

  /** A view bound to one file, so checkers only pass paths. */
  in(file: string): FileProblems {
    return new FileProblems(file, this);
  }

  get count(): number {
    return this.list.length;
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new WorkspaceValidationError(this.list);
  }
}

export class FileProblems {
  constructor(
    readonly file: string,
    readonly all: Problems,
  ) {}

  add(path: string, expected: string, value?: unknown): void {
    this.all.add(this.file, path, expected, value);
  }

  warn(path: string, expected: string, value?: unknown): void {
    this.all.warn(this.file, path, expected, value);
  }
}
