/**
 * The holder process (server.ts), started by the first command that needs it (client.ts):
 *
 *   node dist/server/workers/holder/main.js <socket path> <persist seconds>
 *
 * It prints "ready" once it listens (or once it found another holder already listening there)
 * and leaves after <persist seconds> without a command attached, or as soon as its socket is
 * removed.
 */
import { connect } from "node:net";
import { statSync, unlinkSync } from "node:fs";
import { closeHolder, createHolder } from "./server.js";

/** How often the holder looks whether its socket is still there. */
const SOCKET_CHECK_MS = 2_000;

const [socketPath, persist] = process.argv.slice(2);
const persistSec = Number(persist);
if (!socketPath || !Number.isInteger(persistSec) || persistSec < 1) {
  console.error("usage: main.js <socket path> <persist seconds>");
  process.exit(2);
}

// stdout is the pipe the starting command waits on; it closes its end once it read "ready".
// Nothing is written after that, but a stray write must not take the holder down with EPIPE.
process.stdout.on("error", () => {});
const say = (line: string, then?: () => void) => process.stdout.write(`${line}\n`, then);

let inode: number | undefined;
const socketIsOurs = () => inode !== undefined && statSync(socketPath, { throwIfNoEntry: false })?.ino === inode;
const leave = () => {
  closeHolder(holder);
  if (socketIsOurs()) unlinkSync(socketPath);
  // ssh2's sockets close on their own; nothing else is left to wait for.
  setTimeout(() => process.exit(0), 100).unref();
};

// The socket grants the worker sessions maand holds: only this user may connect to it.
process.umask(0o177);
const holder = createHolder(persistSec, leave);

holder.server.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EADDRINUSE") return void say(`cannot listen on ${socketPath}: ${err.message}`, () => process.exit(1));
  // A socket file is there: another holder's (use it) or a dead one's (replace it).
  const probe = connect(socketPath);
  probe.once("connect", () => {
    probe.destroy();
    say("ready", () => process.exit(0));
  });
  probe.once("error", () => {
    try {
      unlinkSync(socketPath);
    } catch {
      // removed meanwhile
    }
    holder.server.listen(socketPath);
  });
});
holder.server.once("listening", () => {
  inode = statSync(socketPath).ino;
  say("ready");
  // Removing the socket (or the bucket) lets go of the connections at once; a socket replaced
  // by another holder's means no command can reach this one any more. Either way: leave.
  setInterval(() => {
    if (!socketIsOurs()) leave();
  }, SOCKET_CHECK_MS).unref();
});
holder.server.listen(socketPath);
