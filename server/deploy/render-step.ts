import type { Db } from "../store/db.js";
import type { RenderStep } from "./stage.js";
import { catalogHasTemplates, unrenderedFiles } from "./template-files.js";

/**
 * The render step for one deploy (or dry run, or `cat deployments`), planning and applying
 * alike: the template engine is imported only when some built job has a `.tpl` file.
 */
export async function deployRenderStep(db: Db): Promise<RenderStep> {
  if (!catalogHasTemplates(db)) return unrenderedFiles;
  const { templateRender } = await import("./render.js");
  return templateRender(db);
}
