import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { apiError, type ApiError } from "../errors.js";
import { JSON_CONTENT_TYPE } from "../request-headers.js";

/** The catalogue error for a request Node's HTTP parser refused (by its error code). */
export function clientErrorOf(code: string | undefined): ApiError {
  if (code === "HPE_HEADER_OVERFLOW") return apiError("headersTooLarge");
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return apiError("requestTimeout");
  return apiError("malformedRequest");
}

/** METHOD SP target SP HTTP/x.y, the method an RFC 9110 token. */
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}) (\S+) HTTP\/\d\.\d$/;

/** The methods a path allows (the Allow header), or every method the API uses for an unknown path. */
export type AllowFor = (path: string | undefined) => string;

/**
 * Answers a request that never became an IncomingMessage (bad syntax, oversized headers, a
 * method Node's parser does not know) on the raw socket, still as JSON {message, code} like
 * every other error, then closes it. An unknown method is a 405 naming the allowed ones, as
 * for a known method on the wrong route.
 */
export function answerClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number }, socket: Socket, allowFor: AllowFor): void {
  if (err.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  // A well-formed request line with a method Node does not know: 405, as for a known method on
  // the wrong route. Anything else the parser called a bad method is just not HTTP: 400.
  const line = err.code === "HPE_INVALID_METHOD" ? REQUEST_LINE.exec(failingRequestLine(err)) : null;
  if (line) {
    const [, method, target] = line;
    const path = target!.split("?")[0];
    const allow = allowFor(path);
    answerOnSocket(socket, apiError("methodNotAllowed", { message: `Method ${method} is not allowed (allowed: ${allow})` }), { Allow: allow });
    return;
  }
  answerOnSocket(socket, clientErrorOf(err.code));
}

/**
 * The request line the parser failed on. The packet may hold earlier requests of a kept-alive
 * connection too, so the line is the one around the byte where parsing stopped.
 */
function failingRequestLine(err: { rawPacket?: Buffer; bytesParsed?: number }): string {
  const packet = err.rawPacket?.toString("latin1") ?? "";
  const at = Math.min(err.bytesParsed ?? 0, packet.length);
  const start = packet.lastIndexOf("\n", at - 1) + 1;
  const end = packet.indexOf("\r\n", start);
  return packet.slice(start, end < 0 ? undefined : end);
}

/** A JSON error response written straight to the socket, which is then closed. */
export function answerOnSocket(socket: Socket, e: ApiError, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(e.toBody());
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ""}\r\n${extra}` +
      `Content-Type: ${JSON_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
