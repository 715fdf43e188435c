import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CommandInterrupted, HostKeyChanged, WorkerUnreachable } from "../../server/workers/errors.js";
import { poolFor, rejection, TRANSPORT_MODES } from "./fixture.js";
import { processRunning, waitFor } from "./procs.js";
import { startWorkers, testWorkersUnavailable, type WorkerSet } from "./workers.js";

const skip = testWorkersUnavailable();

/** A remote command that records its background child's pid in /opt/worker/<name> and then blocks. */
const BLOCK = (name: string) => `sleep 300 & echo $! > /opt/worker/${name}.tmp && mv /opt/worker/${name}.tmp /opt/worker/${name}; wait`;

async function remotePid(set: WorkerSet, i: number, name: string): Promise<number> {
  const file = join(set.workers[i].optDir, name);
  await waitFor(() => existsSync(file), 10_000, `${file}`);
  return Number(readFileSync(file, "utf8"));
}

// Every behaviour holds alike for a connection of the command's own and one the holder keeps.
for (const mode of TRANSPORT_MODES) {
  describe(`transport${mode.name}: commands over one pooled connection`, { skip }, () => {
    let set: WorkerSet;
    before(async () => {
      set = await startWorkers(6);
    });
    after(async () => {
      await set?.stop();
    });

    it("returns exit codes, stdout and stderr, and feeds stdin (a string, or a stream with backpressure)", async () => {
      const pool = poolFor(set, mode.options(set));
      try {
        const ip = set.workers[0].ip;
        const r = await pool.exec(ip, "echo out; echo err >&2; exit 7");
        assert.equal(r.exitCode, 7);
        assert.equal(r.stdout.toString(), "out\n");
        assert.equal(r.stderr.toString(), "err\n");
        assert.equal(r.timedOut, false);
        assert.equal((await pool.exec(ip, "tr a-z A-Z", { stdin: "hello\n" })).stdout.toString(), "HELLO\n");
        const big = randomBytes(6 * 1024 * 1024);
        async function* chunks() {
          for (let i = 0; i < big.length; i += 256 * 1024) yield big.subarray(i, i + 256 * 1024);
        }
        const sum = await pool.exec(ip, "sha256sum", { stdin: chunks() });
        assert.equal(sum.stdout.toString().split(" ")[0], createHash("sha256").update(big).digest("hex"));
        const env = await pool.exec(ip, 'printf "%s|%s" "$A" "$B"', { env: { A: "x y", B: "it's" } });
        assert.equal(env.stdout.toString(), "x y|it's");
      } finally {
        pool.close();
      }
    });

    it("kills the remote command (and its children) at the timeout and reports timed_out", async () => {
      const pool = poolFor(set, mode.options(set));
      try {
        const started = Date.now();
        const r = await pool.exec(set.workers[1].ip, BLOCK("timeout-pid"), { timeoutMs: 700 });
        assert.equal(r.timedOut, true);
        assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
        const pid = await remotePid(set, 1, "timeout-pid");
        await waitFor(() => !processRunning(pid), 5_000, `remote sleep ${pid} to be killed`);
        const quick = await pool.exec(set.workers[1].ip, "exit 124", { timeoutMs: 30_000 });
        assert.equal(quick.timedOut, false, "a command exiting 124 on its own did not time out");
      } finally {
        pool.close();
      }
    });

    it("an aborted command (Ctrl-C) is stopped on the worker and rejects with CommandInterrupted", async () => {
      const pool = poolFor(set, mode.options(set));
      try {
        const ac = new AbortController();
        const running = rejection(pool.exec(set.workers[2].ip, BLOCK("abort-pid"), { signal: ac.signal }));
        const pid = await remotePid(set, 2, "abort-pid");
        assert.ok(processRunning(pid));
        ac.abort();
        const err = await running;
        assert.ok(err instanceof CommandInterrupted, String(err));
        await waitFor(() => !processRunning(pid), 5_000, `remote sleep ${pid} to be killed`);
      } finally {
        pool.close();
      }
    });

    it("reuses one TCP connection per worker for many commands, sequential and parallel", async () => {
      const pool = poolFor(set, mode.options(set));
      const before = set.acceptedLogins(3);
      try {
        const ip = set.workers[3].ip;
        for (let i = 0; i < 5; i++) assert.equal((await pool.exec(ip, `echo ${i}`)).stdout.toString(), `${i}\n`);
        const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.exec(ip, `echo ${i}`)));
        assert.deepEqual(rs.map((r) => r.stdout.toString()), Array.from({ length: 20 }, (_, i) => `${i}\n`));
        assert.equal(pool.stats().connectionsOpened, 1);
        assert.ok(pool.stats().peakChannels <= pool.options.maxChannelsPerWorker);
      } finally {
        pool.close();
      }
      assert.equal(set.acceptedLogins(3) - before, 1, "the worker's sshd saw exactly one login");
    });

    it("contacts at most maxWorkers workers at once and still reaches them all", async () => {
      const pool = poolFor(set, { ...mode.options(set), maxWorkers: 2 });
      const before = set.workers.map((_, i) => set.acceptedLogins(i));
      try {
        const rs = await Promise.all(set.workers.map((w) => pool.exec(w.ip, "sleep 0.2; hostname -I >/dev/null; echo ok")));
        assert.ok(rs.every((r) => r.exitCode === 0));
        const s = pool.stats();
        assert.equal(s.peakConnections, 2);
        assert.equal(s.connectionsOpened, set.workers.length);
      } finally {
        pool.close();
      }
      assert.deepEqual(set.workers.map((_, i) => set.acceptedLogins(i) - before[i]), set.workers.map(() => 1));
    });
  });

  describe(`transport${mode.name}: channel bound`, { skip }, () => {
    let set: WorkerSet;
    before(async () => {
      set = await startWorkers(1, { maxSessions: 3 });
    });
    after(async () => {
      await set?.stop();
    });

    it("queues commands beyond maxChannelsPerWorker instead of overrunning sshd's MaxSessions", async () => {
      const ip = set.workers[0].ip;
      const bounded = poolFor(set, { ...mode.options(set), maxChannelsPerWorker: 3 });
      try {
        const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => bounded.exec(ip, `sleep 0.3; echo ${i}`)));
        assert.ok(rs.every((r) => r.exitCode === 0));
        assert.equal(bounded.stats().peakChannels, 3);
        assert.equal(bounded.stats().connectionsOpened, 1);
      } finally {
        bounded.close();
      }
      // The same load with a bound above MaxSessions is refused by sshd: the bound is what kept it working.
      const unbounded = poolFor(set, { ...mode.options(set), maxChannelsPerWorker: 6 });
      try {
        // Long enough that the brief retry of a refused open (under a second) cannot outlast it.
        const rs = await Promise.allSettled(Array.from({ length: 6 }, () => unbounded.exec(ip, "sleep 3")));
        const refused = rs.filter((r) => r.status === "rejected");
        assert.ok(refused.length > 0);
        assert.match(String((refused[0] as PromiseRejectedResult).reason), /refused a new session/);
      } finally {
        unbounded.close();
      }
    });
  });

  describe(`transport${mode.name}: host keys and unreachable workers`, { skip }, () => {
    let set: WorkerSet;
    before(async () => {
      set = await startWorkers(4);
    });
    after(async () => {
      await set?.stop();
    });

    it("records host keys on first contact in an OpenSSH known_hosts (0600) and refuses a changed key, naming both fingerprints", async () => {
      const pool = poolFor(set, mode.options(set));
      const file = pool.options.knownHostsFile;
      const w = set.workers[0];
      try {
        await pool.exec(w.ip, "true");
        await pool.exec(set.workers[1].ip, "true");
      } finally {
        pool.close();
      }
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(readFileSync(file, "utf8").trim().split("\n").length, 2);
      // OpenSSH trusts the same file: strict checking, no prompt.
      const out = execFileSync("ssh", ["-i", set.keyPath, "-p", String(set.port), "-o", `UserKnownHostsFile=${file}`, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", `root@${w.ip}`, "echo via-openssh"], { encoding: "utf8" });
      assert.equal(out, "via-openssh\n");

      const oldFingerprint = w.hostFingerprint;
      await set.replaceHostKey(0);
      const again = poolFor(set, { ...mode.options(set), knownHostsFile: file });
      try {
        const err = await rejection(again.exec(w.ip, "true"));
        assert.ok(err instanceof HostKeyChanged, String(err));
        assert.equal(err.host, w.ip);
        assert.equal(err.knownFingerprint, oldFingerprint);
        assert.equal(err.presentedFingerprint, w.hostFingerprint);
        assert.notEqual(oldFingerprint, w.hostFingerprint);
        assert.ok(err.message.includes(w.ip) && err.message.includes(oldFingerprint) && err.message.includes(w.hostFingerprint), err.message);
        // The other recorded worker is still trusted through the same pool.
        assert.equal((await again.exec(set.workers[1].ip, "echo ok")).stdout.toString(), "ok\n");
      } finally {
        again.close();
      }
      assert.equal(readFileSync(file, "utf8").trim().split("\n").length, 2, "the changed key was not recorded");
    });

    it("reports a down worker, a refused key and a silent worker by address, quickly, while others keep working", async () => {
      const [down, frozen, healthy] = [set.workers[1], set.workers[2], set.workers[3]];
      await set.kill(1);
      set.freeze(2);
      const pool = poolFor(set, { ...mode.options(set), connectTimeoutMs: 1_500 });
      try {
        const t0 = Date.now();
        const [d, f, h] = await Promise.allSettled([pool.exec(down.ip, "true"), pool.exec(frozen.ip, "true"), pool.exec(healthy.ip, "echo fine")]);
        assert.ok(Date.now() - t0 < 4_000, `took ${Date.now() - t0} ms`);
        assert.equal(h.status, "fulfilled");
        const de = (d as PromiseRejectedResult).reason;
        assert.ok(de instanceof WorkerUnreachable && de.host === down.ip && de.kind === "refused", String(de));
        const fe = (f as PromiseRejectedResult).reason;
        assert.ok(fe instanceof WorkerUnreachable && fe.host === frozen.ip && fe.kind === "timeout", String(fe));
        assert.match(fe.message, new RegExp(frozen.ip.replace(/\./g, "\\.")));
      } finally {
        pool.close();
        set.thaw(2);
        await set.start(1);
      }
      const wrongKey = poolFor(set, { ...mode.options(set), keyPath: set.workers[3].hostKeyPath });
      try {
        const err = await rejection(wrongKey.exec(healthy.ip, "true"));
        assert.ok(err instanceof WorkerUnreachable && err.kind === "auth" && err.host === healthy.ip, String(err));
        assert.match(err.message, /refused with the key/);
      } finally {
        wrongKey.close();
      }
    });

    it("a worker dying mid-command fails that command as unreachable without hanging", async () => {
      const pool = poolFor(set, mode.options(set));
      try {
        const running = rejection(pool.exec(set.workers[3].ip, BLOCK("dying-pid")));
        await remotePid(set, 3, "dying-pid");
        await set.kill(3);
        const err = await running;
        assert.ok(err instanceof WorkerUnreachable && err.kind === "lost" && err.host === set.workers[3].ip, String(err));
        await set.start(3);
        // The pool reconnects on the next command.
        assert.equal((await pool.exec(set.workers[3].ip, "echo back")).stdout.toString(), "back\n");
      } finally {
        pool.close();
      }
    });
  });
}
