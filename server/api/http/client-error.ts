import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { apiError, type ApiError } from "../errors.js";
import { JSON_CONTENT_TYPE } from "../routes.js";

/** The catalogue error for a request Node's HTTP parser refused (by its error code). */
export function clientErrorOf(code: string | undefined): ApiError {
  if (code === "HPE_HEADER_OVERFLOW") return apiError("headersTooLarge");
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return apiError("requestTimeout");
  return apiError("malformedRequest");
}

/**
 * Answers a request that never became an IncomingMessage (bad syntax, oversized headers) on
 * the raw socket, still as JSON {message, code} like every other error, then closes it.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const e = clientErrorOf(err.code);
  const body = JSON.stringify(e.toBody());
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ""}\r\n` +
      `Content-Type: ${JSON_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
