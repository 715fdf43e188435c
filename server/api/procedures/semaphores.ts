import { defineOperation } from "../operation.js";
import {
  SemaphoreAcquireInput,
  SemaphoreAcquireOutput,
  SemaphoreNameInput,
  SemaphoreReleaseOutput,
  SemaphoreStatusOutput,
} from "../schemas.js";

export const acquireSemaphore = defineOperation({
  name: "acquireSemaphore",
  input: SemaphoreAcquireInput,
  output: SemaphoreAcquireOutput,
  async handler(ctx, input) {
    const inv = ctx.invocation;
    const { capacity } = await ctx.services.semaphores.acquire(inv, input.name, inv.allocId, {
      capacity: input.capacity,
      timeoutSeconds: input.timeout_seconds,
      signal: ctx.signal,
    });
    return { name: input.name, allocation_id: inv.allocId, capacity, acquired: true as const };
  },
});

export const releaseSemaphore = defineOperation({
  name: "releaseSemaphore",
  input: SemaphoreNameInput,
  output: SemaphoreReleaseOutput,
  handler(ctx, input) {
    const inv = ctx.invocation;
    ctx.services.semaphores.release(inv, input.name, inv.allocId);
    return { name: input.name, allocation_id: inv.allocId, released: true as const };
  },
});

export const semaphoreStatus = defineOperation({
  name: "semaphoreStatus",
  input: SemaphoreNameInput,
  output: SemaphoreStatusOutput,
  handler: (ctx, input) => ctx.services.semaphores.status(ctx.invocation, input.name),
});
