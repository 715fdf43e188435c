/**
 * Test workers from the command line, for the README demo and manual runs (root, openssh-server):
 *
 *   test/workers/workers.sh start N DIR     N sshd workers on 127.a.b.1..N, state in DIR; returns at once
 *   test/workers/workers.sh stop DIR        stops them (by pid and mount namespace) and removes DIR
 *
 * `start` prints the addresses and the maand.conf / workers.json lines that reach them.
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startWorkers, stopWorkersIn, testWorkersUnavailable, STATE_FILE } from "./workers.js";

const USAGE = "usage: workers.sh start N DIR | workers.sh stop DIR";

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "start" && rest.length === 2 && /^\d+$/.test(rest[0])) {
    const reason = testWorkersUnavailable();
    if (reason) {
      console.error(`cannot start test workers: ${reason}`);
      return 1;
    }
    const dir = resolve(rest[1]);
    const set = await startWorkers(Number(rest[0]), { dir, outliveProcess: true });
    for (const w of set.workers) console.log(`worker ${w.ip}:${w.port} pid ${w.pid} (/opt/worker is ${w.optDir})`);
    console.log(`\nmaand.conf: ssh_user = "root"  ssh_port = ${set.port}  use_sudo = false  (copy ${set.keyPath} to the bucket's secrets/)`);
    console.log(`workers.json: ${JSON.stringify(set.workers.map((w) => ({ host: w.ip, labels: ["worker"] })))}`);
    console.log(`ssh: ${set.sshCommand} root@${set.workers[0].ip}`);
    console.log(`state: ${join(dir, STATE_FILE)}; stop with: test/workers/workers.sh stop ${dir}`);
    return 0;
  }
  if (command === "stop" && rest.length === 1) {
    const n = await stopWorkersIn(resolve(rest[0]));
    console.log(`stopped ${n} worker${n === 1 ? "" : "s"}`);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
