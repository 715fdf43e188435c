import { assertBucket } from "../../server/bucket/context.js";
import { parseLogQuery, type LogFlags } from "../../server/logs/query.js";
import { formatJsonLine, formatTextLine } from "../../server/logs/record.js";
import { nothingMatched, selectedRecords, selectLogs } from "../../server/logs/show.js";
import { escapeText } from "../../server/text/escape.js";

/**
 * `maand logs show [--run ID] [--worker IP] [--job J] [--hook H] [--event E] [--tail N] [--json]`.
 * Reads files only: no lock, no catalog, so it works while a run is writing the logs.
 */
export async function show(bucket: string, opts: LogFlags & { json?: boolean }): Promise<number> {
  const query = parseLogQuery(opts);
  const paths = assertBucket(bucket);
  const selection = selectLogs(paths.logs, query);
  if (!selection) {
    console.error(nothingMatched(query, paths.logs));
    return 0;
  }
  // Log lines were sanitised when written, but a log may have been edited or copied in; tabs
  // are ordinary hook output and stay tabs.
  const render = opts.json ? formatJsonLine : (r: Parameters<typeof formatTextLine>[0]) => formatTextLine(r).split("\t").map(escapeText).join("\t");
  let chunk: string[] = [];
  let count = 0;
  const skipped = (file: string, n: number) => console.error(`warning: ${escapeText(file)}: ${n} line(s) in neither log format skipped`);
  for (const record of selectedRecords(selection, query, skipped)) {
    chunk.push(render(record));
    count++;
    // In chunks: one write per line is slow, one string for a whole run may exceed V8's limit.
    if (chunk.length === 1000) {
      process.stdout.write(`${chunk.join("\n")}\n`);
      chunk = [];
    }
  }
  if (chunk.length) process.stdout.write(`${chunk.join("\n")}\n`);
  if (!count) console.error(nothingMatched(query, paths.logs));
  return 0;
}
