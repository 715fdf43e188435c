import { MaandError } from "../../server/errors.js";

/**
 * With --json, stdout carries only the command's JSON and an error goes to stderr as
 * {"error": {"message", "code", "detail"}}: `code` the exit status, `detail` what the error
 * carries as data (failed steps, worker problems), null when nothing.
 */
export function printJsonError(err: MaandError, detail: unknown = null): number {
  process.stderr.write(`${JSON.stringify({ error: { message: err.message, code: err.exitCode, detail } }, null, 2)}\n`);
  return err.exitCode;
}
