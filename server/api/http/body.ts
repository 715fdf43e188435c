import type { IncomingMessage } from "node:http";
import { apiError } from "../errors.js";
import { JSON_CONTENT_TYPE } from "../request-headers.js";

/** A request carries a body when it says so: a positive Content-Length or any Transfer-Encoding. */
export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers["content-length"];
  // Node has already rejected a Content-Length that is not a number; "00" is still zero.
  if (len !== undefined && Number(len) !== 0) return true;
  return req.headers["transfer-encoding"] !== undefined;
}

export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const semi = value.indexOf(";");
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase() === JSON_CONTENT_TYPE;
}

/** Reads the whole body, failing with 413 as soon as it passes `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(apiError("payloadTooLarge"));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(apiError("payloadTooLarge"));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      if (!req.complete) onError(new Error("the client closed the connection before sending the whole body"));
    };
    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A JSON object from a body; empty means `{}`. Non-UTF-8 or malformed JSON is a 400. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw apiError("invalidJson");
  }
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw apiError("invalidJson");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw apiError("invalidInput", { message: "Invalid input: the request body must be a JSON object" });
  }
  return value as Record<string, unknown>;
}

/**
 * Query parameters as an object; a repeated parameter becomes an array (and then fails
 * validation). Null prototype: `?__proto__=x` is a parameter named __proto__, nothing more.
 */
export function parseQuery(search: string): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (search.length <= 1) return out;
  for (const [k, v] of new URLSearchParams(search)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}
