import { LIMITS } from "./limits.js";

/**
 * In-memory counting semaphores for one runtime API server (one maand session). Scoped by
 * job + EVENT + name; holders are allocation IDs; waiters are served first come, first served.
 * Nothing here knows about HTTP: the boundary converts these errors to responses.
 */

export class SemaphoreTimeout extends Error {
  constructor(readonly semaphore: string) {
    super(`timed out waiting for semaphore ${semaphore}`);
    this.name = "SemaphoreTimeout";
  }
}

/** Release without hold, a capacity that differs from the first acquirer's, a double wait. */
export class SemaphoreConflict extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = "SemaphoreConflict";
  }
}

/** The waiter went away (connection dropped, invocation ended, server stopped). */
export class SemaphoreWaitAborted extends Error {
  constructor(reason: string) {
    super(`semaphore wait aborted: ${reason}`);
    this.name = "SemaphoreWaitAborted";
  }
}

export interface SemaphoreScope {
  job: string;
  event: string;
}

export interface AcquireOptions {
  capacity?: number;
  timeoutSeconds?: number;
  /** Aborting it (the client's connection dropped) removes the waiter from the queue. */
  signal?: AbortSignal;
}

export interface SemaphoreStatus {
  name: string;
  capacity: number;
  holders: string[];
  waiting: number;
  available: number;
}

interface Waiter {
  holder: string;
  grant(): void;
  fail(err: Error): void;
}

interface Semaphore {
  name: string;
  capacity: number;
  holders: Set<string>;
  waiters: Waiter[];
}

export class SemaphoreBoard {
  private readonly semaphores = new Map<string, Semaphore>();
  private closed = false;

  async acquire(scope: SemaphoreScope, name: string, holder: string, options: AcquireOptions = {}): Promise<{ capacity: number }> {
    if (this.closed) throw new SemaphoreWaitAborted("the runtime API is stopping");
    // A client already gone would be granted a slot it never learns about.
    if (options.signal?.aborted) throw new SemaphoreWaitAborted("the client went away");
    const id = scopeId(scope, name);
    let sem = this.semaphores.get(id);
    if (sem && options.capacity !== undefined && options.capacity !== sem.capacity) {
      throw new SemaphoreConflict(`semaphore ${name} has capacity ${sem.capacity}, fixed by its first acquirer; requested ${options.capacity}`);
    }
    if (!sem) {
      sem = { name, capacity: options.capacity ?? LIMITS.semaphoreDefaultCapacity, holders: new Set(), waiters: [] };
      this.semaphores.set(id, sem);
    }
    const capacity = sem.capacity;
    if (sem.holders.has(holder)) return { capacity };
    if (sem.waiters.some((w) => w.holder === holder)) {
      throw new SemaphoreConflict(`allocation ${holder} is already waiting for semaphore ${name}`);
    }
    if (sem.waiters.length === 0 && sem.holders.size < capacity) {
      sem.holders.add(holder);
      return { capacity };
    }
    // 0 means "the default", as in the original: its clients send the field even when unset.
    const timeoutMs = Math.min(options.timeoutSeconds || LIMITS.semaphoreDefaultTimeoutSeconds, LIMITS.semaphoreMaxTimeoutSeconds) * 1000;
    if (timeoutMs <= 0) throw new SemaphoreTimeout(name);
    await this.wait(sem, holder, timeoutMs, options.signal);
    return { capacity };
  }

  release(scope: SemaphoreScope, name: string, holder: string): void {
    const sem = this.semaphores.get(scopeId(scope, name));
    if (!sem || !sem.holders.delete(holder)) {
      throw new SemaphoreConflict(`allocation ${holder} does not hold semaphore ${name}`);
    }
    this.pump(sem);
  }

  status(scope: SemaphoreScope, name: string): SemaphoreStatus {
    const sem = this.semaphores.get(scopeId(scope, name));
    if (!sem) {
      const capacity = LIMITS.semaphoreDefaultCapacity;
      return { name, capacity, holders: [], waiting: 0, available: capacity };
    }
    return {
      name,
      capacity: sem.capacity,
      holders: [...sem.holders],
      waiting: sem.waiters.length,
      available: Math.max(0, sem.capacity - sem.holders.size),
    };
  }

  /** Frees every slot `holder` holds and cancels its waits, in every scope (its process ended). */
  releaseAll(holder: string): void {
    for (const sem of this.semaphores.values()) {
      const waiting = sem.waiters.filter((w) => w.holder === holder);
      for (const w of waiting) w.fail(new SemaphoreWaitAborted("the invocation ended"));
      if (sem.holders.delete(holder) || waiting.length > 0) this.pump(sem);
    }
  }

  /** Fails every waiter; later acquires fail at once. */
  close(): void {
    this.closed = true;
    for (const sem of this.semaphores.values()) {
      for (const w of [...sem.waiters]) w.fail(new SemaphoreWaitAborted("the runtime API is stopping"));
    }
  }

  private wait(sem: Semaphore, holder: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const i = sem.waiters.indexOf(waiter);
        if (i >= 0) sem.waiters.splice(i, 1);
      };
      const waiter: Waiter = {
        holder,
        grant: () => {
          settle();
          sem.holders.add(holder);
          resolve();
        },
        fail: (err) => {
          settle();
          reject(err);
        },
      };
      const onAbort = (): void => {
        waiter.fail(new SemaphoreWaitAborted("the client went away"));
        // A waiter leaving the head of the queue may let the next one in.
        this.pump(sem);
      };
      const timer = setTimeout(() => {
        waiter.fail(new SemaphoreTimeout(sem.name));
        this.pump(sem);
      }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      sem.waiters.push(waiter);
    });
  }

  private pump(sem: Semaphore): void {
    while (sem.holders.size < sem.capacity && sem.waiters.length > 0) {
      sem.waiters[0]!.grant();
    }
  }
}

const scopeId = (scope: SemaphoreScope, name: string): string => `${scope.job}\0${scope.event}\0${name}`;
