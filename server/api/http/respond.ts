import type { ServerResponse } from "node:http";
import type { ApiError } from "../errors.js";
import { JSON_CONTENT_TYPE } from "../request-headers.js";

export function sendJson(res: ServerResponse, status: number, body: unknown, extraHeaders?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  // writeHead + end(body) goes out as one write: headers and body in one TCP segment.
  res.writeHead(status, { "Content-Type": JSON_CONTENT_TYPE, "Content-Length": Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError, extraHeaders?: Record<string, string>): void {
  sendJson(res, err.status, err.toBody(), extraHeaders);
}
