import { connect } from "node:net";

/**
 * HTTP/1.1 as bytes over one socket to the runtime API on 127.0.0.1, for requests an HTTP
 * client will not send (no Host, absolute-form targets, CONNECT, a body held back): resolves
 * with everything the server sent until it closed the connection.
 */
export function rawExchange(port: number, head: string | Buffer, body?: string, beforeBody?: () => Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", reject);
    s.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    // With a body: send it only once `beforeBody` has run (the headers are already on their way).
    s.write(head, () => {
      if (body === undefined) return;
      void (beforeBody ?? (async () => {}))().then(() => s.write(body));
    });
  });
}

export const statusOf = (raw: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
export const headerOf = (raw: string, name: string): string | undefined =>
  new RegExp(`^${name}: (.*)$`, "mi").exec(raw.slice(0, raw.indexOf("\r\n\r\n")))?.[1]?.trim();
export const bodyOf = (raw: string): any => JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));
