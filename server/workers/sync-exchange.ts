import { randomBytes } from "node:crypto";
import { helperArgv } from "./scripts.js";
import { shellJoin, shellQuote } from "./shell.js";

/**
 * A sync is one conversation on one SSH channel, so it costs one sshd session (fork, shell,
 * exec) instead of two: the worker prints its state listing and then a fence; maand compares,
 * then writes one line: `apply <deadline> <token>` followed by the control line and the tar,
 * `seal <deadline> <token>` (nothing to send, but the worker was listed in full: seal it so the
 * next sync needs no listing), or `skip`. Only on `apply` does the shell start python3, which
 * reads the rest of the same stdin (sh's `read` consumes exactly one line of a pipe), so a sync
 * with nothing to send starts no interpreter. apply.py seals the synced jobs with the token once
 * everything is in place (the control line carries it); `seal` runs remote-state.ts's sealScript.
 */
export const SKIP = "skip\n";
export type Answer = "apply" | "seal";
/** The answer line; the deadline is round-trip 2's, known only once maand knows what it sends. */
export const answerLine = (answer: Answer, deadlineSec: number, token: string): string => `${answer} ${Math.ceil(deadlineSec)} ${token}\n`;

/** The fence ends the listing; it is random per sync, so no path or manifest can contain it. */
export const newFence = (): string => `maand-state-end-${randomBytes(12).toString("hex")}`;

/** A seal's token: random per sync, so a worker's seal names exactly one sync maand recorded. */
export const newSealToken = (): string => randomBytes(16).toString("hex");

export interface ExchangeDeadlines {
  /** For the state listing (round-trip 1). */
  listingSec: number;
  /** Between the deadline's SIGTERM and SIGKILL. */
  killAfterSec: number;
}

/**
 * Each round-trip has its own remote deadline (GNU timeout, which signals its whole process
 * group, so a SIGTERM from an abort reaches apply.py too): the listing's is fixed, apply's comes
 * with the answer, as it grows with what is sent. The channel itself therefore runs without one
 * (see exchange in sync.ts).
 */
export function exchangeScript(stateScript: string, fence: string, applyScript: string, sealScript: string, d: ExchangeDeadlines): string {
  // apply.py seals what it synced itself (the control line carries the token); `seal` runs the shell's.
  const round2 = `if [ "$1" = apply ]; then exec ${shellJoin(helperArgv(applyScript))}; fi\ntok=$2\n${sealScript}`;
  return [
    `timeout -k ${d.killAfterSec} ${Math.ceil(d.listingSec)} sh -c ${shellQuote(stateScript)} || exit $?`,
    `printf '%s' ${fence}`,
    `read -r go secs tok || exit 0`,
    `case "$go" in apply|seal) ;; *) exit 0;; esac`,
    `case "$secs" in ''|*[!0-9]*) echo "bad deadline" >&2; exit 2;; esac`,
    `case "$tok" in ''|*[!0-9a-f]*) echo "bad seal token" >&2; exit 2;; esac`,
    `exec timeout -k ${d.killAfterSec} "$secs" sh -c ${shellQuote(round2)} sh "$go" "$tok"`,
  ].join("\n");
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
