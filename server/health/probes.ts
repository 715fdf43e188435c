import { connect } from "node:net";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/**
 * The three probe kinds of SPEC §11, dialled from the CLI host: each answers ok or why not, with
 * how long it took, and never throws. Probes run no user script.
 */
export interface ProbeOutcome {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

/** Cut so a chatty error page cannot flood the report. */
const BODY_CAP = 64 * 1024;

export function tcpProbe(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (error?: string) => {
      socket.destroy();
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve({ ok: error === undefined, latencyMs: Math.round(performance.now() - started), ...(error ? { error } : {}) });
    };
    const onAbort = () => done("interrupted");
    const timer = setTimeout(() => done(`no connection within ${timeoutMs} ms`), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => done());
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code === "ECONNREFUSED" ? `connection refused on ${host}:${port}` : `${err.code ?? err.message}`));
  });
}

export interface HttpProbeSpec {
  scheme: "http" | "https";
  host: string;
  port: number;
  path: string;
  expectStatus: number;
  expectBody?: string;
  /** PEM of the bucket CA: an https check trusts the certificates build issued, and only those. */
  ca?: string;
}

export function httpProbe(spec: HttpProbeSpec, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const started = performance.now();
  const url = `${spec.scheme}://${spec.host.includes(":") ? `[${spec.host}]` : spec.host}:${spec.port}${spec.path}`;
  return new Promise((resolve) => {
    let settled = false;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ok: error === undefined, latencyMs: Math.round(performance.now() - started), ...(error ? { error } : {}) });
    };
    const send = spec.scheme === "https" ? httpsRequest : httpRequest;
    const req = send(url, { method: "GET", agent: false, signal, ...(spec.scheme === "https" ? { ca: spec.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        if (size < BODY_CAP) chunks.push(c);
        size += c.length;
      });
      res.on("error", (err) => done(err.message));
      res.on("end", () => {
        if (res.statusCode !== spec.expectStatus) return done(`GET ${url} answered ${res.statusCode}, expected ${spec.expectStatus}`);
        if (spec.expectBody !== undefined && !Buffer.concat(chunks).toString("utf8").includes(spec.expectBody)) {
          return done(`GET ${url}: the body does not contain ${JSON.stringify(spec.expectBody)}`);
        }
        done();
      });
    });
    const timer = setTimeout(() => done(`GET ${url}: no answer within ${timeoutMs} ms`), timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) => done(signal?.aborted ? "interrupted" : `GET ${url}: ${err.code === "ECONNREFUSED" ? "connection refused" : (err.code ?? err.message)}`));
    req.end();
  });
}

/** Runs `command` on the worker (through the command's pooled SSH connection); exit 0 passes. */
export async function sshProbe(
  exec: (host: string, command: string, options: { timeoutMs: number; signal?: AbortSignal }) => Promise<{ exitCode: number | null; stderr: Buffer; stdout: Buffer; timedOut: boolean }>,
  host: string,
  command: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  const started = performance.now();
  try {
    const r = await exec(host, command, { timeoutMs, signal });
    const latencyMs = Math.round(performance.now() - started);
    if (r.timedOut) return { ok: false, latencyMs, error: `\`${command}\` did not finish within ${timeoutMs} ms` };
    if (r.exitCode === 0) return { ok: true, latencyMs };
    const last = (r.stderr.toString("utf8").trim() || r.stdout.toString("utf8").trim()).split("\n").pop() ?? "";
    return { ok: false, latencyMs, error: `\`${command}\` exited ${r.exitCode}${last ? `: ${last.slice(0, 200)}` : ""}` };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (err as Error).message };
  }
}
