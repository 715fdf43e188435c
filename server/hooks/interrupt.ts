/**
 * Ctrl-C (SIGINT) and SIGTERM while hooks run: instead of dying with children still running
 * and the API port held, maand aborts the run, stops every hook's process group, rolls back,
 * closes the API and exits 130. Installed only for the duration of a run.
 */
export interface InterruptTrap {
  signal: AbortSignal;
  dispose(): void;
}

export function trapInterrupt(outer?: AbortSignal): InterruptTrap {
  const controller = new AbortController();
  const abort = () => controller.abort(new Error("interrupted"));
  const onOuter = () => abort();
  if (outer?.aborted) abort();
  outer?.addEventListener("abort", onOuter, { once: true });
  process.on("SIGINT", abort);
  process.on("SIGTERM", abort);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", abort);
      process.off("SIGTERM", abort);
      outer?.removeEventListener("abort", onOuter);
    },
  };
}
