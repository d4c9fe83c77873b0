import type { CacheClient, Contender } from './contenders';
import { int } from './markdown';
import { makePayload, type Payload } from './payload';
import { progress } from './progress';
import { inTurns, LatencyRecorder, runSequential, type LatencySample } from './stats';

// Contenders take turns (`rounds` slices each, see `inTurns`) so that a noisy
// stretch of the shared VM does not fall on one contender only.

/** L1 hit: warm keys read over and over. */
export const HOT = { keys: 1_000, warmupCalls: 30_000, calls: 300_000, rounds: 6, maxMs: 30_000 };

/**
 * Miss and load (writer), then L2 hit (reader): each key once. Each contender
 * first runs the same path over `warmupKeys` other keys, so that the one
 * measured first does not pay for warming the Redis client code.
 */
export const COLD = { keys: 20_000, warmupKeys: 2_000, rounds: 5, maxMs: 15_000 };

/** One contender's result in one latency scenario. */
export interface LatencyRow {
  contender: Contender;
  sample: LatencySample;
  /** Values whose id did not match the key read (should be 0). */
  wrong: number;
  /** Loader calls (0 where every read should hit). */
  loads?: number;
  /** What `createdAt` came back as after the value went through Redis. */
  dateType?: string;
}

/** The cold scenarios' data: measured keys and, disjoint from them, warm-up keys; payloads by index. */
export interface ColdSet {
  payloads: readonly Payload[];
  measured: readonly string[];
  warmup: readonly string[];
}

export function coldSet(): ColdSet {
  const payloads = Array.from({ length: COLD.keys }, (_, i) => makePayload(i));
  return {
    payloads,
    measured: payloads.map((_, i) => `cold:${i}`),
    warmup: payloads.slice(0, COLD.warmupKeys).map((_, i) => `cold-warmup:${i}`),
  };
}

/** Loaders that resolve at once with the prebuilt payload of each key (and count their calls). */
function loaders(payloads: readonly Payload[]): { loaders: Array<() => Promise<Payload>>; calls: () => number } {
  let calls = 0;
  return {
    loaders: payloads.map((payload) => () => {
      calls++;
      return Promise.resolve(payload);
    }),
    calls: () => calls,
  };
}

/** Reads `keys[i % keys.length]` through `client`, counting values that are not the key's. */
function reader(client: CacheClient, keys: readonly string[], load: Array<() => Promise<Payload>>) {
  const state = { wrong: 0, last: undefined as Payload | undefined };
  const op = async (i: number) => {
    const k = i % keys.length;
    const value = await client.getOrSet(keys[k], load[k]);
    if (value?.id !== k) state.wrong++;
    state.last = value;
  };
  return { op, state };
}

/** A contender's reads in one scenario, recorded over several turns. */
interface Turns {
  contender: Contender;
  op: (i: number) => Promise<void>;
  state: { wrong: number; last?: Payload };
  recorder: LatencyRecorder;
  loads: () => number;
}

/** Runs each contender's planned calls (its recorder's capacity) in `rounds` turns. */
async function takeTurns(runs: readonly Turns[], rounds: number): Promise<void> {
  await inTurns(runs, rounds, (run, round) => {
    const total = run.recorder.capacity;
    const perRound = Math.ceil(total / rounds);
    return run.recorder.run(run.op, round * perRound, Math.min(total, (round + 1) * perRound));
  });
}

function toRow(run: Turns, scenario: string, extra: Partial<LatencyRow> = {}): LatencyRow {
  const sample = run.recorder.summary();
  progress(`  ${scenario.padEnd(12)}${run.contender.label}: ${int(sample.opsPerSec)} ops/s`);
  return { contender: run.contender, sample, wrong: run.state.wrong, ...extra };
}

/** `getOrSet` of warm keys on each writer (an in-process hit wherever there is a memory tier). */
export async function l1Hits(contenders: readonly Contender[]): Promise<LatencyRow[]> {
  const payloads = Array.from({ length: HOT.keys }, (_, i) => makePayload(i));
  const keys = payloads.map((_, i) => `hot:${i}`);
  const runs: Turns[] = [];
  for (const contender of contenders) {
    const { loaders: load, calls } = loaders(payloads);
    for (let i = 0; i < keys.length; i++) await contender.writer.getOrSet(keys[i], load[i]);
    const { op, state } = reader(contender.writer, keys, load);
    await runSequential(op, HOT.warmupCalls);
    state.wrong = 0;
    runs.push({ contender, op, state, recorder: new LatencyRecorder(HOT.calls, HOT.maxMs), loads: calls });
  }
  await takeTurns(runs, HOT.rounds);
  return runs.map((run) => toRow(run, 'L1 hit'));
}

/** Miss and load on each writer (a row's `calls` is how many keys that writer stored, from the first). */
export async function missAndLoad(contenders: readonly Contender[], cold: ColdSet): Promise<LatencyRow[]> {
  const runs: Turns[] = [];
  for (const contender of contenders) {
    await runSequential(reader(contender.writer, cold.warmup, loaders(cold.payloads).loaders).op, cold.warmup.length);
    const { loaders: load, calls } = loaders(cold.payloads);
    const { op, state } = reader(contender.writer, cold.measured, load);
    runs.push({ contender, op, state, recorder: new LatencyRecorder(cold.measured.length, COLD.maxMs), loads: calls });
  }
  await takeTurns(runs, COLD.rounds);
  return runs.map((run) => toRow(run, 'miss + load', { loads: run.loads() }));
}

/** Each reader reads, once, every key its writer stored: none is in the reader's memory tier. */
export async function l2Hits(written: readonly LatencyRow[], cold: ColdSet): Promise<LatencyRow[]> {
  const runs: Turns[] = [];
  for (const { contender, sample } of written) {
    if (!contender.reader) continue;
    await runSequential(reader(contender.reader, cold.warmup, loaders(cold.payloads).loaders).op, cold.warmup.length);
    const { loaders: load, calls } = loaders(cold.payloads);
    const { op, state } = reader(contender.reader, cold.measured.slice(0, sample.calls), load);
    runs.push({ contender, op, state, recorder: new LatencyRecorder(sample.calls), loads: calls });
  }
  await takeTurns(runs, COLD.rounds);
  return runs.map((run) => {
    const createdAt: unknown = run.state.last?.createdAt;
    const dateType = createdAt instanceof Date ? 'Date' : typeof createdAt;
    return toRow(run, 'L2 hit', { loads: run.loads(), dateType });
  });
}
