import { IncomingMessage, ServerResponse, type IncomingHttpHeaders } from "node:http";
import { Duplex } from "node:stream";

/**
 * Drives a node:http request handler in-process, without a socket or a listening server (as
 * Hono's app.request or Fastify's inject do): a real IncomingMessage carrying the request and a
 * real ServerResponse writing into memory, so the handler runs exactly as it does for a client.
 */

export interface Injected {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

/** A socket stand-in that keeps what the response writes. */
class MemorySocket extends Duplex {
  readonly chunks: Buffer[] = [];
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 0;
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    done();
  }
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
}

export function inject(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  opts: { method: string; url: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Injected> {
  const socket = new MemorySocket();
  const req = new IncomingMessage(socket as never);
  req.method = opts.method;
  req.url = opts.url;
  req.httpVersion = "1.1";
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  const headers: Record<string, string> = { host: "127.0.0.1", ...lower(opts.headers ?? {}) };
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  if (body) headers["content-length"] = String(body.length);
  req.headers = headers;
  req.rawHeaders = Object.entries(headers).flat();
  const res = new ServerResponse(req);
  res.assignSocket(socket as never);
  return new Promise((resolve, reject) => {
    res.on("finish", () => {
      const raw = Buffer.concat(socket.chunks).toString("utf8");
      const split = raw.indexOf("\r\n\r\n");
      const head = raw.slice(0, split).split("\r\n");
      const text = raw.slice(split + 4);
      const parsed: IncomingHttpHeaders = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(":");
        parsed[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: Number(head[0]!.split(" ")[1]), headers: parsed, text, json });
    });
    res.on("error", reject);
    handler(req, res);
    if (body) req.push(body);
    req.push(null);
    req.complete = true;
  });
}

const lower = (h: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
