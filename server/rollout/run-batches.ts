/**
 * The rolling-batch executor every plan shares (hooks, deploy's lifecycle steps and syncs, health
 * probes): batches one after another, the items of a batch in parallel, the next batch only
 * after the whole batch succeeded (and its gate passed), a result for every item, including the
 * ones that never started. It knows nothing of hooks or SSH: the caller says how to run one item
 * and how to read its result.
 */

export type BatchRunStatus = "ok" | "failed" | "interrupted";

export interface RunBatchesOptions<T, R> {
  /** Runs one item; must not throw for an ordinary failure (return a failed result instead). */
  runOne(item: T, batchIndex: number): Promise<R>;
  /** The result of an item that was not started (a batch after a failure, or after Ctrl-C). */
  skipped(item: T, batchIndex: number): R;
  failed(result: R): boolean;
  interrupted?(result: R): boolean;
  /** Aborted: nothing further starts; running items are the caller's to stop. */
  signal?: AbortSignal;
  onBatchStart?(batchIndex: number, items: readonly T[]): void;
  onBatchEnd?(batchIndex: number, results: readonly R[]): void;
  /**
   * After a batch succeeded, before the next one starts (deploy's health gate): a non-empty
   * string stops the rollout with that reason.
   */
  gate?(batchIndex: number, results: readonly R[]): Promise<string | undefined>;
}

export interface BatchRunResult<R> {
  status: BatchRunStatus;
  /** In plan order: batch by batch, item by item. */
  results: R[];
  /** Why a gate stopped the rollout, when one did. */
  gateFailure?: { batchIndex: number; reason: string };
}

export async function runBatches<T, R>(batches: readonly (readonly T[])[], options: RunBatchesOptions<T, R>): Promise<BatchRunResult<R>> {
  const out: BatchRunResult<R> = { status: "ok", results: [] };
  for (let b = 0; b < batches.length; b++) {
    const items = batches[b]!;
    if (out.status !== "ok" || options.signal?.aborted) {
      if (options.signal?.aborted) out.status = "interrupted";
      out.results.push(...items.map((item) => options.skipped(item, b)));
      continue;
    }
    options.onBatchStart?.(b, items);
    const results = await Promise.all(items.map((item) => options.runOne(item, b)));
    options.onBatchEnd?.(b, results);
    out.results.push(...results);
    if (results.some((r) => options.interrupted?.(r)) || options.signal?.aborted) out.status = "interrupted";
    else if (results.some((r) => options.failed(r))) out.status = "failed";
    else if (options.gate) {
      const reason = await options.gate(b, results);
      if (reason) {
        out.status = "failed";
        out.gateFailure = { batchIndex: b, reason };
      }
    }
  }
  return out;
}
