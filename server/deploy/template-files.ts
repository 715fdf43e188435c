import type { Db } from "../store/db.js";
import type { RenderStep } from "./stage.js";

/**
 * Which job files are templates, without loading the template engine: a deploy of jobs
 * without `.tpl` files never imports it (render-step.ts) and hashes their files as they are.
 */

/** A job file ending in this is a template: rendered per allocation into the name without it. */
export const TEMPLATE_SUFFIX = ".tpl";

/** `conf/app.yml.tpl` is a template of `conf/app.yml`; a file named just `.tpl` is an ordinary file. */
export const isTemplatePath = (path: string): boolean =>
  path.endsWith(TEMPLATE_SUFFIX) && path.length > TEMPLATE_SUFFIX.length && !path.endsWith(`/${TEMPLATE_SUFFIX}`);

export const renderedPath = (templatePath: string): string => templatePath.slice(0, -TEMPLATE_SUFFIX.length);

export const hasTemplates = (files: readonly { path: string }[]): boolean => files.some((f) => isTemplatePath(f.path));

/** Whether any built job has a template (GLOB is case-sensitive, as the suffix is). */
export function catalogHasTemplates(db: Db): boolean {
  return db.prepare(`SELECT 1 FROM job_files WHERE path GLOB '*${TEMPLATE_SUFFIX}' LIMIT 1`).get() !== undefined;
}

/** The render step of a catalog without templates. */
export const unrenderedFiles: RenderStep = (input) => input.files;
