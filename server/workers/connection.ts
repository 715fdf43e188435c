import { randomBytes } from "node:crypto";
import { runChannel, type ExecOptions, type ExecResult } from "./channel.js";
import { CommandInterrupted } from "./errors.js";
import { Limiter } from "./limiter.js";
import type { TransportOptions } from "./options.js";
import { helperArgv, type WorkerScripts } from "./scripts.js";
import { shellJoin, wrapCommand, wrapRaw } from "./shell.js";
import type { SshClient } from "./ssh-client.js";

/** How long an abort may spend stopping remote commands before the channels are just closed. */
const KILL_BUDGET_MS = 8_000;

/**
 * One open SSH connection to one worker, shared by every command of a maand run. At most
 * maxChannelsPerWorker commands run on it at once; the rest queue in order.
 */
export class WorkerConnection {
  readonly channels: Limiter;
  private lost = false;
  /** Markers of commands being aborted, killed together by one extra channel. */
  private pendingKills: string[] = [];
  private killWithSudo = false;
  private killBatch: Promise<void> | undefined;

  constructor(
    readonly host: string,
    private readonly client: SshClient,
    private readonly options: TransportOptions,
    private readonly scripts: WorkerScripts,
    onGone: () => void,
  ) {
    this.channels = new Limiter(options.maxChannelsPerWorker);
    const gone = () => {
      if (this.lost) return;
      this.lost = true;
      onGone();
    };
    client.on("error", gone);
    client.on("close", gone);
    client.on("end", gone);
  }

  get alive(): boolean {
    return !this.lost;
  }

  async exec(command: string, o: ExecOptions = {}): Promise<ExecResult> {
    const sudo = o.sudo ?? this.options.useSudo;
    await this.channels.acquire(o.signal).catch(() => {
      throw new CommandInterrupted(this.host, command);
    });
    try {
      if (o.raw) return await runChannel({ client: this.client, host: this.host, command, remote: wrapRaw(command, sudo), options: o, killAfterSec: this.options.killAfterSec });
      const marker = `maand-exec-${randomBytes(8).toString("hex")}`;
      const remote = wrapCommand(command, {
        useSudo: sudo,
        timeoutSec: o.timeoutMs === undefined ? 0 : o.timeoutMs / 1000,
        killAfterSec: this.options.killAfterSec,
        marker,
        env: o.env,
      });
      return await runChannel({
        client: this.client,
        host: this.host,
        command,
        remote,
        options: o,
        killAfterSec: this.options.killAfterSec,
        kill: () => this.kill(marker, sudo),
      });
    } finally {
      this.channels.release();
    }
  }

  close(): void {
    this.lost = true;
    this.client.end();
  }

  /**
   * Signals the process groups of aborted commands. Closing a channel does not stop a remote
   * process, and sshd ignores channel signals for root logins, so a separate short command
   * finds the `timeout` processes by marker and signals their groups (SIGTERM, then SIGKILL).
   * Aborts arriving together (Ctrl-C over many commands) share one channel: the connection
   * never opens more than one channel beyond its bound.
   */
  private kill(marker: string, sudo: boolean): Promise<void> {
    if (this.lost) return Promise.resolve();
    this.pendingKills.push(marker);
    this.killWithSudo ||= sudo;
    this.killBatch ??= new Promise<void>((r) => setImmediate(r)).then(() => {
      const markers = this.pendingKills;
      const withSudo = this.killWithSudo;
      this.pendingKills = [];
      this.killWithSudo = false;
      this.killBatch = undefined;
      const remote = wrapRaw(shellJoin(helperArgv(this.scripts.kill, ...markers)), withSudo);
      return runChannel({ client: this.client, host: this.host, command: "stop aborted commands", remote, options: { raw: true, timeoutMs: KILL_BUDGET_MS }, killAfterSec: 0 }).then(
        () => undefined,
        () => undefined,
      );
    });
    return this.killBatch;
  }
}
