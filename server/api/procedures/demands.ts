import { listDemandsOn } from "../../store/catalog.js";
import { defineOperation } from "../operation.js";
import { DemandsOutput, EmptyInput } from "../schemas.js";

function parseConfig(text: string | null): Record<string, unknown> {
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export const listDemands = defineOperation({
  name: "listDemands",
  input: EmptyInput,
  output: DemandsOutput,
  handler: (ctx) =>
    listDemandsOn(ctx.services.db, ctx.invocation.job, ctx.invocation.command).map((h) => ({
      job: h.job,
      hook: h.hook,
      command: h.hook,
      demand_config: parseConfig(h.demand_config),
    })),
});
