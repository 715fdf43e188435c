import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { MaandError } from "../errors.js";
import { RUNTIME_API_HOST } from "./request-headers.js";
import type { Db } from "../store/db.js";
import type { KvSession } from "../store/kv-session.js";
import { createApiServices } from "./context.js";
import { createHttpListeners } from "./http/handler.js";
import type { InvocationRegistry } from "./registry.js";
import { SemaphoreBoard } from "./semaphores.js";

export interface RuntimeApiDeps {
  db: Db; // catalog (read-only use: allocations, hooks/demands, jobs)
  kv: KvSession; // session KV layer (reads see session writes; commit is the engine's job)
  registry: InvocationRegistry;
  auth: "token" | "headers"; // maand.conf hook_api_auth
}

export interface RuntimeApi {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the runtime API on 127.0.0.1 for one maand session. Semaphores live in this server
 * (a new session starts with none); a slot held by an invocation is freed when it unregisters.
 */
export async function startRuntimeApi(deps: RuntimeApiDeps, options: { port: number /* 0 = free port */ }): Promise<RuntimeApi> {
  const semaphores = new SemaphoreBoard();
  const services = createApiServices(deps.db, deps.kv, semaphores);
  const http = createHttpListeners({ services, registry: deps.registry, auth: deps.auth });
  // No Host check: the API is loopback-only and every answer, errors included, comes from the
  // handler as JSON (Node's own check would answer 400 with an empty body).
  const server = createServer({ keepAlive: true, requireHostHeader: false }, http.request);
  server.on("checkContinue", http.checkContinue);
  server.on("connect", http.connect);
  // Keep-alive clients (a script's own requests.Session, curl) reuse connections across calls.
  server.keepAliveTimeout = 5000;
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  server.on("clientError", http.clientError);

  const port = await listen(server, options.port);
  const unsubscribe = deps.registry.onUnregister((inv) => semaphores.releaseAll(inv.allocId));
  let stopping: Promise<void> | undefined;

  return {
    port,
    url: `http://${RUNTIME_API_HOST}:${port}`,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        unsubscribe();
        semaphores.close();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return stopping;
    },
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      server.close();
      if (err.code === "EADDRINUSE") {
        reject(
          new MaandError(
            `cannot start the hook runtime API: port ${port} on ${RUNTIME_API_HOST} is already in use; ` +
              `set hook_api_port in maand.conf to a free port (0 picks one)`,
            1,
            { cause: err },
          ),
        );
      } else if (err.code === "EACCES") {
        reject(new MaandError(`cannot start the hook runtime API: no permission to listen on port ${port}; set hook_api_port in maand.conf (0 picks a free port)`, 1, { cause: err }));
      } else {
        reject(new MaandError(`cannot start the hook runtime API on ${RUNTIME_API_HOST}:${port}: ${err.message}`, 1, { cause: err }));
      }
    };
    const onListening = (): void => {
      server.off("error", onError);
      const addr = server.address();
      resolve(typeof addr === "object" && addr ? addr.port : port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen({ port, host: RUNTIME_API_HOST, exclusive: true });
  });
}
