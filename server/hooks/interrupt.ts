/**
 * Ctrl-C (SIGINT), SIGTERM and a closed terminal (SIGHUP) while hooks run: instead of dying with
 * children still running (each hook has its own process group, so the terminal's hang-up never
 * reaches them) and the API port held, maand aborts the run, stops every hook's process group,
 * rolls back, closes the API and exits 130. Installed only for the duration of a run.
 */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

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
  for (const sig of STOP_SIGNALS) process.on(sig, abort);
  return {
    signal: controller.signal,
    dispose() {
      for (const sig of STOP_SIGNALS) process.off(sig, abort);
      outer?.removeEventListener("abort", onOuter);
    },
  };
}
