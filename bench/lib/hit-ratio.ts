import { createZipf } from '../zipf';

/** A request sequence: ranks (keys by index) for warm-up, then for measurement. */
export interface Trace {
  keys: string[];
  ranks: Int32Array;
  warmup: number;
  measured: number;
}

/** Hit ratio of one policy over (a prefix of) the measured part of a trace. */
export interface HitRatioResult {
  hits: number;
  requests: number;
  ratio: number;
  seconds: number;
}

/** A cache driven cache-aside: `get`, and `set` after a miss. Async for the peers' public APIs. */
export interface SyncPolicy {
  get(key: string): unknown;
  set(key: string, value: number): void;
}
export interface AsyncPolicy {
  get(key: string): Promise<unknown>;
  set(key: string, value: number): Promise<unknown>;
}

/** One Zipf(s) trace over `n` keys, generated once so every policy sees the same requests. */
export function zipfTrace(n: number, s: number, warmup: number, measured: number, seed = 42): Trace {
  const next = createZipf({ n, s, seed });
  const ranks = new Int32Array(warmup + measured);
  for (let i = 0; i < ranks.length; i++) ranks[i] = next();
  const keys = Array.from({ length: n }, (_, r) => `k${r}`);
  return { keys, ranks, warmup, measured };
}

/** Replays the warm-up (uncounted), then the first `measured` requests after it (counted). */
export function replaySync(policy: SyncPolicy, trace: Trace, measured = trace.measured): HitRatioResult {
  const started = performance.now();
  const end = trace.warmup + measured;
  let hits = 0;
  for (let i = 0; i < end; i++) {
    const rank = trace.ranks[i];
    const key = trace.keys[rank];
    if (policy.get(key) !== undefined) {
      if (i >= trace.warmup) hits++;
    } else {
      policy.set(key, rank);
    }
  }
  return result(hits, measured, started);
}

/**
 * As {@link replaySync}, awaiting each call. `budgetMs`: when the warm-up
 * alone shows that the full replay would take longer, only `fallbackMeasured`
 * requests are measured (reported in `requests`).
 */
export async function replayAsync(
  policy: AsyncPolicy,
  trace: Trace,
  { budgetMs, fallbackMeasured }: { budgetMs: number; fallbackMeasured: number },
): Promise<HitRatioResult> {
  const started = performance.now();
  let hits = 0;
  let end = trace.warmup + trace.measured;
  for (let i = 0; i < end; i++) {
    if (i === trace.warmup) {
      const projectedMs = ((performance.now() - started) / trace.warmup) * end;
      if (projectedMs > budgetMs) end = trace.warmup + Math.min(trace.measured, fallbackMeasured);
    }
    const rank = trace.ranks[i];
    const key = trace.keys[rank];
    if ((await policy.get(key)) !== undefined) {
      if (i >= trace.warmup) hits++;
    } else {
      await policy.set(key, rank);
    }
  }
  return result(hits, end - trace.warmup, started);
}

function result(hits: number, requests: number, started: number): HitRatioResult {
  return { hits, requests, ratio: hits / requests, seconds: (performance.now() - started) / 1000 };
}
