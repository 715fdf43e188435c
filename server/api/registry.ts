import { randomBytes } from "node:crypto";

/** One running hook process, as the runtime API authenticates it. */
export interface Invocation {
  allocId: string;
  job: string;
  workerIp: string;
  event: string;
  /** The hook name; clients send it as the COMMAND header. */
  command: string;
  /** Bearer token, random per invocation. */
  token: string;
  /**
   * True once the invocation's process has exited, asked on every lookup: the exit event that
   * unregisters it can come after requests from processes it forked (see hooks/process-end.ts).
   */
  hasEnded?(): boolean;
}

type Listener = (inv: Invocation) => void;

/**
 * Running invocations by allocation ID. The hook engine registers each invocation just before
 * spawning its process and unregisters it when the process exits; the API answers only for
 * registered invocations, and semaphores release everything an invocation held on unregister.
 */
export class InvocationRegistry {
  private readonly byAlloc = new Map<string, Invocation>();
  private readonly byToken = new Map<string, Invocation>();
  private readonly listeners: Listener[] = [];

  register(inv: Omit<Invocation, "token"> & { token?: string }): Invocation {
    if (this.byAlloc.has(inv.allocId)) {
      throw new Error(`allocation ${inv.allocId} already has a running invocation`);
    }
    const full: Invocation = { ...inv, token: inv.token ?? randomBytes(24).toString("base64url") };
    if (this.byToken.has(full.token)) throw new Error("token already in use by another invocation");
    this.byAlloc.set(full.allocId, full);
    this.byToken.set(full.token, full);
    return full;
  }

  unregister(allocId: string): void {
    const inv = this.byAlloc.get(allocId);
    if (!inv) return;
    this.byAlloc.delete(allocId);
    this.byToken.delete(inv.token);
    for (const l of this.listeners) l(inv);
  }

  get(allocId: string): Invocation | undefined {
    return this.running(this.byAlloc.get(allocId));
  }

  /** The running invocation a bearer token was issued to. */
  getByToken(token: string): Invocation | undefined {
    return this.running(this.byToken.get(token));
  }

  private running(inv: Invocation | undefined): Invocation | undefined {
    if (!inv?.hasEnded?.()) return inv;
    this.unregister(inv.allocId);
    return undefined;
  }

  get size(): number {
    return this.byAlloc.size;
  }

  /** Subscribed onUnregister listeners: a stopped runtime API must have removed its own. */
  get listenerCount(): number {
    return this.listeners.length;
  }

  /** Called after an invocation is unregistered (its process has ended). Returns an unsubscribe function. */
  onUnregister(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
}
