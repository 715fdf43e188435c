/** Patterns are walked in steps of this many bytes; every pattern is at least this long. */
const STEP = 8;

interface Node {
  /** The next STEP bytes (as Latin-1) of the patterns passing through here. */
  next: Map<string, Node>;
  /** What is left (1 to STEP-1 bytes) of patterns that end after this node. */
  tails: Buffer[];
  /** A pattern ends exactly here. */
  end: boolean;
}

const node = (): Node => ({ next: new Map(), tails: [], end: false });

/**
 * The byte strings hook output is searched for: every job's secrets, every staged private key
 * line by line, a token per invocation, thousands in a large bucket. A trie in steps of 8 bytes
 * keeps one pass over the output cheap even when many patterns share a prefix (the PEM header
 * of every key, "sk_live_" API keys), and a bitmap of every pattern's first 3 bytes skips most
 * offsets of ordinary output without looking further.
 */
export class SecretPatterns {
  private readonly root = node();
  /** Bit b0 | b1 << 8 | b2 << 16 set when some pattern starts with bytes b0 b1 b2. */
  private readonly heads = new Uint32Array(1 << 19);
  /** Latin-1 prefixes of 1 to STEP-1 bytes, for the last bytes of a chunk where a pattern may begin. */
  private readonly shortPrefixes = new Set<string>();
  private readonly seen = new Set<string>();

  get size(): number {
    return this.seen.size;
  }

  add(text: string): void {
    const bytes = Buffer.from(text, "utf8");
    if (bytes.length < STEP) throw new Error(`secret patterns must be at least ${STEP} bytes long`);
    const id = bytes.toString("latin1");
    if (this.seen.has(id)) return;
    this.seen.add(id);
    let at = this.root;
    let o = 0;
    for (; bytes.length - o >= STEP; o += STEP) {
      const key = id.slice(o, o + STEP);
      let child = at.next.get(key);
      if (!child) at.next.set(key, (child = node()));
      at = child;
    }
    if (o === bytes.length) at.end = true;
    else at.tails.push(bytes.subarray(o));
    const head = bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16);
    this.heads[head >>> 5]! |= 1 << (head & 31);
    for (let n = 1; n < STEP; n++) this.shortPrefixes.add(id.slice(0, n));
  }

  /**
   * Every occurrence of a pattern in `buf` as [start, end) (overlapping ones included), and the
   * earliest offset from which the rest of `buf` is the beginning of some pattern: bytes from
   * there on cannot be judged before the next chunk arrives.
   */
  scan(buf: Buffer): { matches: Array<[number, number]>; partialFrom: number } {
    const found = { matches: [] as Array<[number, number]>, partialFrom: buf.length };
    if (this.seen.size === 0) return found;
    const last = buf.length - STEP;
    for (let p = 0; p <= last; p++) {
      const head = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16);
      if ((this.heads[head >>> 5]! & (1 << (head & 31))) !== 0) this.walk(buf, p, found);
    }
    // Fewer than STEP bytes left: only the prefix set can tell whether a pattern starts here.
    for (let p = Math.max(0, last + 1); p < Math.min(buf.length, found.partialFrom); p++) {
      if (this.shortPrefixes.has(buf.toString("latin1", p))) {
        found.partialFrom = p;
        break;
      }
    }
    return found;
  }

  private walk(buf: Buffer, p: number, found: { matches: Array<[number, number]>; partialFrom: number }): void {
    let at = this.root;
    let o = p;
    for (;;) {
      if (at.end) found.matches.push([p, o]);
      for (const tail of at.tails) {
        const n = Math.min(tail.length, buf.length - o);
        if (buf.compare(tail, 0, n, o, o + n) !== 0) continue;
        if (n === tail.length) found.matches.push([p, o + n]);
        else found.partialFrom = Math.min(found.partialFrom, p);
      }
      const left = buf.length - o;
      if (left < STEP) {
        // The chunk ends inside the next step: a pattern continuing with these bytes may follow.
        const rest = buf.toString("latin1", o);
        if (at !== this.root && [...at.next.keys()].some((k) => k.startsWith(rest))) found.partialFrom = Math.min(found.partialFrom, p);
        return;
      }
      const child = at.next.get(buf.toString("latin1", o, o + STEP));
      if (!child) return;
      at = child;
      o += STEP;
    }
  }
}
