import { randomBytes } from "node:crypto";
import { helperArgv } from "./scripts.js";
import { shellJoin } from "./shell.js";

/**
 * A sync is one conversation on one SSH channel, so it costs one sshd session (fork, shell,
 * exec) instead of two: the worker prints its state listing and then a fence; maand compares,
 * then writes one line, `apply` followed by the control line and the tar, or `skip`. Only on
 * `apply` does the shell exec python3, which reads the rest of the same stdin (sh's `read`
 * consumes exactly one line of a pipe), so a sync with nothing to send starts no interpreter.
 */
export const APPLY = "apply\n";
export const SKIP = "skip\n";

/** The fence ends the listing; it is random per sync, so no path or manifest can contain it. */
export const newFence = (): string => `maand-state-end-${randomBytes(12).toString("hex")}`;

export function exchangeScript(stateScript: string, fence: string, applyScript: string): string {
  return [stateScript, `printf '%s' ${fence}`, `IFS= read -r go || exit 0`, `[ "$go" = apply ] || exit 0`, `exec ${shellJoin(helperArgv(applyScript))}`].join("\n");
}

/**
 * Watches stdout for the fence. `listing` is everything before it (once seen), and `after`
 * gives everything the command printed behind it: apply.py's reply.
 */
export class FenceWatcher {
  private readonly fence: Buffer;
  private readonly chunks: Buffer[] = [];
  private total = 0;
  private at = -1;
  private carry: Buffer = Buffer.alloc(0);

  constructor(
    fence: string,
    private readonly onListing: (listing: Buffer) => void,
  ) {
    this.fence = Buffer.from(fence);
  }

  get seen(): boolean {
    return this.at >= 0;
  }

  readonly push = (chunk: Buffer): void => {
    if (this.at >= 0) return;
    this.chunks.push(chunk);
    // The fence may straddle chunks: search it in the end of what came before plus this chunk.
    const carry = this.carry;
    const window = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const i = window.indexOf(this.fence);
    const start = this.total - carry.length;
    this.total += chunk.length;
    if (i < 0) {
      this.carry = window.subarray(Math.max(0, window.length - this.fence.length + 1));
      return;
    }
    this.at = start + i;
    this.onListing(Buffer.concat(this.chunks).subarray(0, this.at));
  };

  /** What followed the fence in `stdout` (the command's complete output). */
  after(stdout: Buffer): Buffer {
    return this.at < 0 ? Buffer.alloc(0) : stdout.subarray(this.at + this.fence.length);
  }
}
