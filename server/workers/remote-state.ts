import { JOBS_DIR, MANIFESTS_DIR, PROTECTED_JOB_DIRS, SEAL_SUFFIX } from "./layout.js";
import { shellQuote } from "./shell.js";
import type { RemoteJobState, SealedFileList } from "./sync-plan.js";

/**
 * Sync round-trip 1 without an interpreter: a POSIX sh script prints, NUL-separated, each job's
 * manifest (as the last sync wrote it) and a `find -printf` stat listing of the job directory
 * (data/ logs/ bin/ pruned, never entered), plus the current layout files. The comparison is
 * done here. No python3 start-up on the worker keeps a no-change deploy close to one SSH
 * handshake per worker.
 *
 * A sealed job skips all that. After a sync succeeded, the worker keeps `<token> <sha256 of the
 * stat listing>` beside the manifest (sealScript) and maand records the token with the files it
 * synced. Next time maand sends the token it has: when the seal holds it and the listing's digest
 * is unchanged (no file written, renamed, chmod-ed or deleted since: every such change moves an
 * inode, size, mtime or ctime), the worker answers "K" instead of its manifest and listing, and
 * maand takes the files it recorded. A 2,000-file job's listing is about 470 kB per worker,
 * shipped and parsed on every deploy; its answer is a few bytes. Anything else, an unknown
 * token, another digest, no seal, falls back to the full listing and the comparison here.
 * Trade-offs: the seal is taken a few milliseconds after apply.py's last rename, so a change
 * made to a synced file in that window (a running job writing into its own files, outside
 * data/ and logs/) is sealed as if maand had written it; and a worker without sha256sum
 * (coreutils, like timeout) is simply never sealed, listed in full every time.
 *
 * Output: "maand-state-v1" NUL, then per job either "K" NUL job NUL (sealed, unchanged) or "J"
 * NUL job NUL manifest-json NUL (path NUL "ino size mtime ctime mode" NUL)* NUL; per present
 * layout file: "L" NUL name NUL content NUL; finally "end" NUL.
 */
const MAGIC = "maand-state-v1";
/** Written by apply.py (which gets it in the control line) into every manifest. */
export const MANIFEST_VERSION = 2;
const PAIRS_END = Buffer.from([0, 0]);

/** Shell lines setting $d (the job directory) and $m (its manifest path without a suffix). */
const jobVars = (job: string): string[] => [`d="$r/${JOBS_DIR}/"${shellQuote(job)}`, `m="$r/${MANIFESTS_DIR}/"${shellQuote(job)}`];

/** The stat listing of the job directory $d: what round-trip 1 prints and what a seal digests, one definition. */
function statListingCommand(): string {
  const prune = PROTECTED_JOB_DIRS.map((p) => `-path "$d/${p}"`).join(" -o ");
  return `if [ -d "$d" ]; then find "$d" -mindepth 1 \\( ${prune} \\) -prune -o -type f -printf '%P\\0%i %s %T@ %C@ %m\\0'; fi`;
}

/** `<sha256 hex>  -` of the stat listing, as a shell word. */
const listingDigest = (): string => `"$( { ${statListingCommand()}; } | sha256sum)"`;

/** Tokens are random hex (newSealToken); anything else never reaches a script. */
const TOKEN = /^[0-9a-f]{16,64}$/;

/**
 * `seals`: per job, the token of the last sync maand recorded for this worker. Without one the
 * job is listed in full.
 */
export function stateScript(root: string, jobs: readonly string[], layoutNames: readonly string[], seals: Readonly<Record<string, string>> = {}): string {
  const r = shellQuote(root);
  const lines = [`r=${r}`, `printf '${MAGIC}\\0'`];
  for (const job of jobs) {
    const full = [`printf 'J\\0%s\\0' ${shellQuote(job)}`, `cat "$m.json" 2>/dev/null`, `printf '\\0'`, statListingCommand(), `printf '\\0'`];
    const token = seals[job];
    lines.push(...jobVars(job));
    if (token === undefined) lines.push(...full);
    else {
      if (!TOKEN.test(token)) throw new Error(`invalid sync seal ${JSON.stringify(token)}`);
      // read, not $(cat): one process fewer on every worker of every sync.
      lines.push(
        `s=; { IFS= read -r s < "$m${SEAL_SUFFIX}"; } 2>/dev/null`,
        `if [ -n "$s" ] && [ "$s" = "${token} "${listingDigest()} ]; then printf 'K\\0%s\\0' ${shellQuote(job)}; else`,
        ...full,
        "fi",
      );
    }
  }
  for (const name of layoutNames) lines.push(`if [ -f "$r/"${shellQuote(name)} ]; then printf 'L\\0%s\\0' ${shellQuote(name)}; cat "$r/"${shellQuote(name)}; printf '\\0'; fi`);
  lines.push(`printf 'end\\0'`);
  return lines.join("\n");
}

/**
 * Seals each job as its directory is now, with the token in shell variable $tok: run on the
 * worker when the listing found nothing to send (after a sync that sent something, apply.py
 * writes the same seal itself, stat_listing being this listing in Python). Best effort: a seal
 * that could not be written only means a full listing next time.
 */
export function sealScript(root: string, jobs: readonly string[]): string {
  if (!jobs.length) return "true";
  const lines = [`r=${shellQuote(root)}`, `mkdir -p "$r/${MANIFESTS_DIR}" || exit 0`];
  for (const job of jobs) {
    lines.push(...jobVars(job), `s=${listingDigest()} && printf '%s %s\\n' "$tok" "$s" > "$m${SEAL_SUFFIX}.tmp" && mv -f "$m${SEAL_SUFFIX}.tmp" "$m${SEAL_SUFFIX}"`);
  }
  lines.push("exit 0");
  return lines.join("\n");
}

export interface WorkerState {
  jobs: Record<string, RemoteJobState>;
  /** Current content of each layout file present on the worker. */
  layout: Record<string, Buffer>;
  /** update_seq in the worker's worker.json, if any. */
  updateSeq: number | null;
}

/** A manifest entry as apply.py records it: [sha256, mode, size, ino, mtime_ns, ctime_ns] (big numbers as strings). */
type ManifestEntry = [string, number, number, string, string, string];

/** What maand recorded with a seal's token: the files that sync left. */
export type SealedFiles = (job: string) => SealedFileList | undefined;

export function parseState(out: Buffer, jobs: readonly string[], sealed: SealedFiles = () => undefined): WorkerState {
  let at = 0;
  const field = (): Buffer => {
    const end = out.indexOf(0, at);
    if (end < 0) throw new Error("the worker's state listing ended early");
    const f = out.subarray(at, end);
    at = end + 1;
    return f;
  };
  /**
   * The (path, stat) pairs up to the empty field that ends them, decoded as one string: neither
   * paths nor stat lines are ever empty, so the first double NUL is the end. Field by field,
   * this was most of maand's CPU time in a 2,000-file sync.
   */
  const statListing = (): Map<string, string> => {
    const listing = new Map<string, string>();
    if (out[at] === 0) {
      at++;
      return listing;
    }
    const end = out.indexOf(PAIRS_END, at);
    if (end < 0) throw new Error("the worker's state listing ended early");
    const fields = out.toString("utf8", at, end).split("\0");
    if (fields.length % 2) throw new Error("the worker's state listing has a path without its stat");
    for (let i = 0; i < fields.length; i += 2) listing.set(fields[i], fields[i + 1]);
    at = end + PAIRS_END.length;
    return listing;
  };
  if (field().toString() !== MAGIC) throw new Error("the worker's state listing does not start as expected");
  const state: WorkerState = { jobs: {}, layout: {}, updateSeq: null };
  for (;;) {
    const tag = field().toString();
    if (tag === "end") break;
    if (tag === "J") {
      const job = field().toString();
      const manifest = field();
      state.jobs[job] = compare(manifest, statListing());
    } else if (tag === "K") {
      const job = field().toString();
      const intact = sealed(job);
      // The worker answers K only to a token maand sent, which it sends only with its record.
      if (!intact) throw new Error(`the worker reports job ${JSON.stringify(job)} sealed, but no seal was sent for it`);
      state.jobs[job] = { sealed: true, manifest: true, dir: true, intact, stale: [] };
    } else if (tag === "L") {
      const name = field().toString();
      state.layout[name] = Buffer.from(field());
    } else throw new Error(`unexpected section ${JSON.stringify(tag)} in the worker's state listing`);
  }
  for (const job of jobs) state.jobs[job] ??= { manifest: false, dir: false, intact: {}, stale: [] };
  const workerJson = state.layout["worker.json"];
  if (workerJson) {
    try {
      const seq = (JSON.parse(workerJson.toString("utf8")) as { update_seq?: unknown }).update_seq;
      state.updateSeq = typeof seq === "number" ? seq : null;
    } catch {
      state.updateSeq = null;
    }
  }
  return state;
}

/** Intact: the file is where the manifest says, with the inode, size, times and mode it recorded. */
function compare(manifestText: Buffer, listing: Map<string, string>): RemoteJobState {
  let files: Record<string, ManifestEntry> = {};
  let manifest = false;
  if (manifestText.length) {
    try {
      const parsed = JSON.parse(manifestText.toString("utf8")) as { version?: number; files?: Record<string, ManifestEntry> };
      files = parsed.files ?? {};
      manifest = true;
      // Another format's entries cannot be compared: all stale (resent when wanted, else deleted).
      if (parsed.version !== MANIFEST_VERSION) return { manifest, dir: true, intact: {}, stale: Object.keys(files).sort() };
    } catch {
      // A damaged manifest means nothing on the worker can be trusted: every file is resent.
    }
  }
  const result: RemoteJobState = { manifest, dir: listing.size > 0 || manifest, intact: {}, stale: [] };
  for (const path in files) {
    const [sha256, mode, size, ino, mtime, ctime] = files[path];
    const line = listing.get(path);
    // GNU find prints exactly this for an intact file; another find's format takes the exact comparison.
    const intact = line === `${ino} ${size} ${findTime(mtime)} ${findTime(ctime)} ${mode.toString(8)}` || sameStat(parseStat(line), files[path]);
    if (intact) result.intact[path] = [sha256, mode];
    else result.stale.push(path);
  }
  result.stale.sort();
  return result;
}

function sameStat(seen: ReturnType<typeof parseStat>, [, mode, size, ino, mtime, ctime]: ManifestEntry): boolean {
  return seen !== undefined && seen.ino === ino && seen.size === size && seen.mtime === mtime && seen.ctime === ctime && seen.mode === mode;
}

/** Nanoseconds as GNU find's `%T@` prints them: seconds, a point and ten digits ("5" ns -> "0.0000000050"). */
export function findTime(ns: string): string {
  return ns.length > 9 ? `${ns.slice(0, -9)}.${ns.slice(-9)}0` : `0.${ns.padStart(9, "0")}0`;
}

/** `find -printf '%i %s %T@ %C@ %m'`: inode, size, seconds with a fraction, octal permission bits. */
function parseStat(line: string | undefined): { ino: string; size: number; mtime: string; ctime: string; mode: number } | undefined {
  const f = line?.split(" ");
  if (!f || f.length !== 5) return undefined;
  return { ino: f[0], size: Number(f[1]), mtime: nanoseconds(f[2]), ctime: nanoseconds(f[3]), mode: parseInt(f[4], 8) };
}

/**
 * "1700000000.1234567890" -> "1700000000123456789", exactly (the value exceeds 2^53, so no
 * floats), by string: this runs for every file of every job on every sync, where BigInt
 * arithmetic was a visible part of maand's CPU time.
 */
function nanoseconds(t: string): string {
  const dot = t.indexOf(".");
  const sec = dot < 0 ? t : t.slice(0, dot);
  const frac = dot < 0 ? "" : t.slice(dot + 1);
  if (!/^\d+$/.test(sec)) return (BigInt(sec) * 1_000_000_000n + BigInt((frac + "000000000").slice(0, 9))).toString();
  const ns = sec + (frac.length === 9 ? frac : (frac + "000000000").slice(0, 9));
  return ns[0] === "0" ? ns.replace(/^0+(?=\d)/, "") : ns;
}
