import { escapeLines } from "../text/escape.js";

/**
 * What a command says to the operator besides its result (warnings, progress notes): one
 * object passed in the bucket context, so server modules never write to the console
 * themselves and tests can collect what was said.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/** The CLI's logger: stderr, escaped (messages quote workspace and KV content). */
export function consoleLogger(stream: NodeJS.WritableStream = process.stderr): Logger {
  return {
    info: (m) => void stream.write(`${escapeLines(m)}\n`),
    warn: (m) => void stream.write(`warning: ${escapeLines(m)}\n`),
  };
}
