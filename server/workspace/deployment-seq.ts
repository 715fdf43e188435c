/**
 * Upstream-first waves from hook demands: a job's deployment_seq is 0 when it demands nothing,
 * else 1 + the highest deployment_seq among the jobs it demands. Cycles have no order and are
 * returned (each once, rotated to start at its smallest name) instead.
 */
export interface DemandOrder {
  seq: Map<string, number>;
  /** Each cycle as job names, first repeated at the end: ["a", "b", "a"]. */
  cycles: string[][];
}

export function orderByDemands(jobs: readonly string[], upstreams: ReadonlyMap<string, readonly string[]>): DemandOrder {
  const seq = new Map<string, number>();
  const onPath = new Map<string, number>();
  const path: string[] = [];
  const cycles = new Map<string, string[]>();

  const visit = (job: string): number => {
    const done = seq.get(job);
    if (done !== undefined) return done;
    onPath.set(job, path.length);
    path.push(job);
    let wave = 0;
    for (const up of upstreams.get(job) ?? []) {
      const start = onPath.get(up);
      if (start !== undefined) {
        recordCycle(cycles, path.slice(start));
        continue;
      }
      wave = Math.max(wave, visit(up) + 1);
    }
    path.pop();
    onPath.delete(job);
    seq.set(job, wave);
    return wave;
  };

  for (const job of jobs) visit(job);
  return { seq, cycles: [...cycles.values()] };
}

function recordCycle(cycles: Map<string, string[]>, members: string[]): void {
  let first = 0;
  for (let i = 1; i < members.length; i++) if (members[i] < members[first]) first = i;
  const rotated = [...members.slice(first), ...members.slice(0, first)];
  const key = rotated.join("\0");
  if (!cycles.has(key)) cycles.set(key, [...rotated, rotated[0]]);
}
