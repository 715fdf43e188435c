import type { z } from "zod";
import type { ApiContext } from "./context.js";
import { toApiError } from "./boundary.js";
import { ROUTES, type RouteName } from "./routes.js";
import { apiProcedure } from "./trpc.js";

/**
 * One runtime API operation: its schemas and its handler, defined once. Two projections are
 * made of it, and they share exactly this: the input schema (parsed first), the handler behind
 * the same error boundary (`guarded`), and the output schema (parsed last).
 *  - The tRPC procedure (router.ts: the router, openapi.json, SDK codegen, in-process callers),
 *    where tRPC's own input/output validator middlewares run the schemas.
 *  - The HTTP layer's direct call (`runOperation`), which runs the same three steps without
 *    tRPC's middleware chain: it costs ~33 us per request (40% of the hot path's CPU;
 *    bench/api.ts) and adds nothing, because the procedures have no middleware of their own.
 * test/api/equivalence.test.ts holds both to the same answers on every route and event, and
 * fails if a procedure ever gains a middleware the HTTP path would skip.
 */
export interface Operation<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType, N extends RouteName = RouteName> {
  name: N;
  input: I;
  output: O;
  handler(ctx: ApiContext, input: z.output<I>): z.input<O> | Promise<z.input<O>>;
}

export const defineOperation = <I extends z.ZodType, O extends z.ZodType, N extends RouteName>(op: Operation<I, O, N>): Operation<I, O, N> => op;

/** The procedure boundary: domain errors leave the handler as catalogue ApiErrors. */
async function guarded<I extends z.ZodType, O extends z.ZodType>(op: Operation<I, O>, ctx: ApiContext, input: z.output<I>): Promise<z.input<O>> {
  try {
    return await op.handler(ctx, input);
  } catch (err) {
    throw toApiError(err, ROUTES[op.name]);
  }
}

/** Runs an operation the way its tRPC procedure does; every failure is an ApiError. */
export async function runOperation(op: Operation, ctx: ApiContext, rawInput: unknown): Promise<unknown> {
  const parsed = op.input.safeParse(rawInput);
  if (!parsed.success) throw toApiError(parsed.error, ROUTES[op.name]);
  const out = await guarded(op, ctx, parsed.data);
  const checked = op.output.safeParse(out);
  if (!checked.success) throw toApiError(new Error(`${op.name} produced output that violates its schema`), ROUTES[op.name]);
  return checked.data;
}

export function queryProcedure<I extends z.ZodType, O extends z.ZodType>(op: Operation<I, O>) {
  return apiProcedure(op.name, op.output.description)
    .input(op.input)
    .output(op.output)
    .query(({ ctx, input }) => guarded(op, ctx, input as z.output<I>) as Promise<never>);
}

export function mutationProcedure<I extends z.ZodType, O extends z.ZodType>(op: Operation<I, O>) {
  return apiProcedure(op.name, op.output.description)
    .input(op.input)
    .output(op.output)
    .mutation(({ ctx, input }) => guarded(op, ctx, input as z.output<I>) as Promise<never>);
}
