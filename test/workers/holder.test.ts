import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MaandError } from "../../server/errors.js";
import { HostKeyChanged } from "../../server/workers/errors.js";
import { holderEnabled, MAX_SOCKET_PATH } from "../../server/workers/holder/client.js";
import { FRAME, jsonFrame } from "../../server/workers/holder/frames.js";
import { closeHolder, createHolder } from "../../server/workers/holder/server.js";
import { withDefaults, type TransportOptions } from "../../server/workers/options.js";
import { deployBucket, recordingJob, type DeployBucket } from "../deploy/fixture.js";
import { poolFor, rejection } from "./fixture.js";
import { waitFor } from "./procs.js";
import { startWorkers, testWorkersUnavailable, type WorkerSet } from "./workers.js";

const skip = testWorkersUnavailable();

/** The client side of the connection the worker's sshd sees: "ip port" of maand's end. */
const clientEnd = async (pool: ReturnType<typeof poolFor>, ip: string) => (await pool.exec(ip, 'echo "${SSH_CONNECTION% * *}"')).stdout.toString().trim();

describe("SSH connection holder (ssh_persist): connections kept between commands", { skip }, () => {
  let set: WorkerSet;
  let n = 0;
  /** Options of one "command" using the holder on its own socket. */
  const held = (socket: string, extra: Partial<TransportOptions> = {}): Partial<TransportOptions> => ({ persistSec: 30, holderSocket: socket, knownHostsFile: join(set.dir, "known_hosts"), ...extra });
  const socket = () => join(set.dir, `h${n++}.sock`);
  before(async () => {
    set = await startWorkers(2);
  });
  after(async () => {
    await set?.stop();
  });

  it("a later command reuses the worker's connection: no new login, the same TCP connection, stats say reused", async () => {
    const sock = socket();
    const first = poolFor(set, held(sock));
    const ip = set.workers[0].ip;
    const logins = set.acceptedLogins(0);
    let end: string;
    try {
      end = await clientEnd(first, ip);
      assert.deepEqual([first.stats().connectionsOpened, first.stats().connectionsReused], [1, 0]);
    } finally {
      first.close();
    }
    // The socket is the holder's, and only this user's.
    assert.ok(statSync(sock).isSocket());
    assert.equal(statSync(sock).mode & 0o777, 0o600);
    const second = poolFor(set, held(sock));
    try {
      assert.equal(await clientEnd(second, ip), end, "the worker sees the same client port: the same TCP connection");
      assert.deepEqual([second.stats().connectionsOpened, second.stats().connectionsReused], [0, 1]);
      // Big stdin both ways through the relay, with backpressure.
      const big = Buffer.alloc(8 * 1024 * 1024, "x");
      assert.equal((await second.exec(ip, "wc -c", { stdin: big })).stdout.toString().trim(), String(big.length));
    } finally {
      second.close();
    }
    assert.equal(set.acceptedLogins(0) - logins, 1, "one login for both commands");
    rmSync(sock);
  });

  it("removing the socket lets go of the connections; the next command starts a new holder and logs in again", async () => {
    const sock = socket();
    const ip = set.workers[1].ip;
    const a = poolFor(set, held(sock));
    const endA = await clientEnd(a, ip).finally(() => a.close());
    rmSync(sock);
    // The holder leaves (SOCKET_CHECK_MS); the worker's session for it ends with it.
    assert.ok(sshSessionFrom(endA), `a connection from ${endA} is open`);
    await waitFor(() => !sshSessionFrom(endA), 10_000, "the held session to end");
    const b = poolFor(set, held(sock));
    try {
      assert.notEqual(await clientEnd(b, ip), endA);
      assert.equal(b.stats().connectionsOpened, 1);
    } finally {
      b.close();
    }
    rmSync(sock);
  });

  it("leaves after ssh_persist seconds without a command attached, removing its socket", async () => {
    const sock = socket();
    const p = poolFor(set, held(sock, { persistSec: 1 }));
    await p.exec(set.workers[0].ip, "true").finally(() => p.close());
    assert.ok(existsSync(sock));
    await waitFor(() => !existsSync(sock), 10_000, "the idle holder to leave");
  });

  it("another key file (or the same file rotated) is another connection", async () => {
    const sock = socket();
    const dir = mkdtempSync(join(set.dir, "key-"));
    const key = join(dir, "worker.key");
    copyFileSync(set.keyPath, key);
    chmodSync(key, 0o600);
    const ip = set.workers[0].ip;
    const use = async () => {
      const p = poolFor(set, held(sock, { keyPath: key }));
      try {
        return [await clientEnd(p, ip), p.stats().connectionsReused] as const;
      } finally {
        p.close();
      }
    };
    const [end1] = await use();
    const [end2, reused2] = await use();
    assert.deepEqual([end2, reused2], [end1, 1]);
    // Same key material, other bytes: the holder cannot know it is the same key, so it does not assume so.
    writeFileSync(key, `${readFileSync(set.keyPath, "utf8")}\n`, { mode: 0o600 });
    const [end3, reused3] = await use();
    assert.notEqual(end3, end1);
    assert.equal(reused3, 0);
    rmSync(sock);
  });

  it("a changed host key is refused through the holder with the same typed error, naming both fingerprints", async () => {
    const sock = socket();
    const kh = join(mkdtempSync(join(set.dir, "kh-")), "known_hosts");
    const w = set.workers[1];
    const p = poolFor(set, held(sock, { knownHostsFile: kh }));
    await p.exec(w.ip, "true").finally(() => p.close());
    const old = w.hostFingerprint;
    await set.replaceHostKey(1);
    const q = poolFor(set, held(sock, { knownHostsFile: kh }));
    try {
      const err = await rejection(q.exec(w.ip, "true"));
      assert.ok(err instanceof HostKeyChanged, String(err));
      assert.deepEqual([err.host, err.knownFingerprint, err.presentedFingerprint], [w.ip, old, w.hostFingerprint]);
    } finally {
      q.close();
    }
    rmSync(sock);
  });

  it("a holder that cannot start is a clear error naming the way out", async () => {
    const p = poolFor(set, held(join(set.dir, "no-such-dir", "h.sock")));
    try {
      const err = await rejection(p.exec(set.workers[0].ip, "true"));
      assert.ok(err instanceof MaandError, String(err));
      assert.match(err.message, /cannot start the SSH connection holder \(.*cannot listen on .*no-such-dir.*\); set ssh_persist = 0 in maand\.conf/);
    } finally {
      p.close();
    }
  });
});

describe("SSH connection holder: when it is used", () => {
  const base = withDefaults({ user: "u", port: 22, keyPath: "/k", useSudo: false, knownHostsFile: "/kh" });
  it("only with ssh_persist > 0 and a socket path Linux accepts", () => {
    assert.equal(holderEnabled({ ...base, persistSec: 60, holderSocket: "/b/secrets/ssh-holder.sock" }), true);
    assert.equal(holderEnabled({ ...base, persistSec: 0, holderSocket: "/b/secrets/ssh-holder.sock" }), false);
    assert.equal(holderEnabled({ ...base, persistSec: 60 }), false);
    assert.equal(holderEnabled({ ...base, persistSec: 60, holderSocket: `/${"d".repeat(MAX_SOCKET_PATH - 1)}` }), true);
    assert.equal(holderEnabled({ ...base, persistSec: 60, holderSocket: `/${"d".repeat(MAX_SOCKET_PATH)}` }), false);
  });

  it("a command's lease keeps the holder from leaving; when the lease ends, the idle timer starts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "maand-holder-"));
    let left = 0;
    const h = createHolder(1, () => left++);
    const path = join(dir, "s");
    let lease: Socket | undefined;
    try {
      await new Promise<void>((r) => h.server.listen(path, r));
      assert.ok(h.idle, "idle from the start");
      const sock = (lease = connect(path));
      const ready = new Promise<Buffer>((r) => sock.once("data", r));
      sock.write(jsonFrame(FRAME.REQUEST, { target: { persistSec: 1 }, lease: true }));
      assert.equal((await ready)[0], FRAME.READY);
      assert.equal(h.idle, undefined, "no idle timer while a command holds a lease");
      sock.destroy();
      await waitFor(() => h.idle !== undefined, 5_000, "the idle timer");
    } finally {
      lease?.destroy();
      closeHolder(h);
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(left, 0);
  });
});

describe("SSH connection holder: maand deploy and job control with ssh_persist", { skip }, () => {
  let b: DeployBucket;
  before(async () => {
    b = await deployBucket(2, {}, { ssh_persist: "30" });
    b.build({ workers: b.ips.map((host) => ({ host, labels: ["worker"] })), jobs: { api: recordingJob(b.recordFile) } });
  });
  after(async () => {
    await b?.cleanup();
  });

  it("the first deploy opens the connections, the next command reuses them without a login", () => {
    const first = b.deploy();
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(first.result!.transport, { connections_opened: 2, connections_reused: 0, peak_connections: 2 });
    const logins = [0, 1].map((i) => b.set.acceptedLogins(i));
    const status = b.maand("job", "status", "api");
    assert.equal(status.status, 0, status.stderr);
    writeFileSync(join(b.root, "workspace", "jobs", "api", "extra.conf"), "x = 1\n");
    assert.equal(b.maand("build", "--yes").status, 0);
    const again = b.deploy();
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(again.result!.transport, { connections_opened: 0, connections_reused: 2, peak_connections: 2 });
    assert.deepEqual([0, 1].map((i) => b.set.acceptedLogins(i) - logins[i]!), [0, 0]);
  });
});

/** Whether a TCP connection with maand's end at `end` ("ip port", from SSH_CONNECTION) is still established. */
function sshSessionFrom(end: string): boolean {
  const [ip, port] = end.split(" ");
  const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, "0");
  // /proc/net/tcp: local address as little-endian hex ip and hex port; state 01 is ESTABLISHED.
  const local = `${ip!.split(".").map((o) => hex(Number(o), 2)).reverse().join("")}:${hex(Number(port), 4)}`;
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .some((l) => {
      const f = l.trim().split(/\s+/);
      return f[1] === local && f[3] === "01";
    });
}
