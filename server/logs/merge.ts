import type { LogRecord } from "./record.js";

interface Head {
  record: LogRecord;
  source: number;
}

/**
 * Merges per-invocation logs into one stream ordered by timestamp (ISO strings sort as times),
 * lines of equal time in file order: a k-way merge over a binary heap, so a run of thousands of
 * invocations costs log(k) per line and one pending line per file.
 */
export function* mergeByTime(sources: ReadonlyArray<{ next(): LogRecord | undefined }>): Generator<LogRecord> {
  const heap: Head[] = [];
  const before = (a: Head, b: Head) => (a.record.ts < b.record.ts ? true : a.record.ts > b.record.ts ? false : a.source < b.source);
  const push = (h: Head) => {
    heap.push(h);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const pop = (): Head => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < heap.length && before(heap[l]!, heap[min]!)) min = l;
        if (r < heap.length && before(heap[r]!, heap[min]!)) min = r;
        if (min === i) break;
        [heap[i], heap[min]] = [heap[min]!, heap[i]!];
        i = min;
      }
    }
    return top;
  };
  sources.forEach((s, i) => {
    const record = s.next();
    if (record) push({ record, source: i });
  });
  while (heap.length) {
    const h = pop();
    yield h.record;
    const record = sources[h.source]!.next();
    if (record) push({ record, source: h.source });
  }
}
