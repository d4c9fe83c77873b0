import type { CacheClient, Contender } from './contenders';
import { int } from './markdown';
import { makePayload, type Payload } from './payload';
import { progress } from './progress';
import { percentile, type LatencySample } from './stats';

/**
 * Miss-and-load then L2 hit with several calls in flight: at each level,
 * in each round, every contender's writer loads `keys` never-seen keys
 * (`inFlight` calls at a time), then its reader (a second instance on the
 * same Redis) reads each once. Fresh keys per level, round and contender;
 * contenders take turns, starting with a different one each round.
 */
export const CONCURRENCY = { levels: [1, 16, 64], keys: 4_000, rounds: 3 };

/** One contender at one level: medians over the rounds. */
export interface ConcurrencyRow {
  contender: Contender;
  inFlight: number;
  miss: LatencySample;
  l2: LatencySample;
  /** Values whose id did not match the key (should be 0). */
  wrong: number;
  /** Loader calls during the L2 reads (should be 0). */
  l2Loads: number;
}

/** Runs `op(0)` … `op(calls - 1)` with `inFlight` calls outstanding; per-call latencies and the wall time. */
async function concurrently(
  op: (i: number) => Promise<void>,
  calls: number,
  inFlight: number,
): Promise<{ ms: number; latencies: Float64Array }> {
  const latencies = new Float64Array(calls);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < calls; i = next++) {
      const t0 = performance.now();
      await op(i);
      latencies[i] = performance.now() - t0;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { ms: performance.now() - started, latencies };
}

function sampleOf(run: { ms: number; latencies: Float64Array }): LatencySample {
  const sorted = run.latencies.slice().sort();
  return {
    calls: sorted.length,
    opsPerSec: sorted.length / (run.ms / 1000),
    p50Us: percentile(sorted, 0.5) * 1000,
    p99Us: percentile(sorted, 0.99) * 1000,
  };
}

function medianSample(samples: readonly LatencySample[]): LatencySample {
  const byOps = [...samples].sort((a, b) => a.opsPerSec - b.opsPerSec);
  return byOps[Math.floor(byOps.length / 2)];
}

interface Counters {
  wrong: number;
  loads: number;
}

function reads(client: CacheClient, keys: readonly string[], payloads: readonly Payload[], counters: Counters) {
  return async (i: number) => {
    const value = await client.getOrSet(keys[i], () => {
      counters.loads++;
      return Promise.resolve(payloads[i]);
    });
    if (value?.id !== i) counters.wrong++;
  };
}

/** The scenario over every contender with a reader; rows by level, then contender. */
export async function concurrencyRuns(contenders: readonly Contender[]): Promise<ConcurrencyRow[]> {
  const shared = contenders.filter((c) => c.reader);
  const payloads = Array.from({ length: CONCURRENCY.keys }, (_, i) => makePayload(i));
  const rows: ConcurrencyRow[] = [];
  for (const inFlight of CONCURRENCY.levels) {
    const results = shared.map(() => ({ miss: [] as LatencySample[], l2: [] as LatencySample[], wrong: 0, loads: 0 }));
    for (let round = 0; round < CONCURRENCY.rounds; round++) {
      for (let j = 0; j < shared.length; j++) {
        const index = (j + round) % shared.length;
        const contender = shared[index];
        const keys = payloads.map((_, i) => `conc:${inFlight}:${round}:${i}`);
        const writes: Counters = { wrong: 0, loads: 0 };
        const miss = await concurrently(reads(contender.writer, keys, payloads, writes), keys.length, inFlight);
        const seen: Counters = { wrong: 0, loads: 0 };
        const l2 = await concurrently(reads(contender.reader!, keys, payloads, seen), keys.length, inFlight);
        const result = results[index];
        result.miss.push(sampleOf(miss));
        result.l2.push(sampleOf(l2));
        result.wrong += writes.wrong + seen.wrong;
        result.loads += seen.loads;
      }
    }
    shared.forEach((contender, index) => {
      const result = results[index];
      const row = {
        contender,
        inFlight,
        miss: medianSample(result.miss),
        l2: medianSample(result.l2),
        wrong: result.wrong,
        l2Loads: result.loads,
      };
      progress(`  ${inFlight} in flight: ${contender.label}: L2 hit ${int(row.l2.opsPerSec)} ops/s`);
      rows.push(row);
    });
  }
  return rows;
}
