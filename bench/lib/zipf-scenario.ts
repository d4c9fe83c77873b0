import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { Cacheable, createKeyv as createKeyvMemory } from 'cacheable';
// eslint-disable-next-line no-restricted-imports -- the policy itself is measured; @app/cache keeps it internal
import { WTinyLfu } from '../../libs/cache/src/l1/w-tiny-lfu';
import { frequencyOptimalHitRatio } from '../zipf';
import { replayAsync, replaySync, zipfTrace, type HitRatioResult, type Trace } from './hit-ratio';
import { MapLru } from './lru';
import { fixed, int } from './markdown';
import { progress } from './progress';

/** Hit ratio: Zipf(s) over n keys, a cache of `capacity` entries. */
export const ZIPF = { n: 100_000, s: 1, capacity: 10_000, warmup: 200_000, measured: 1_000_000 };

/** A peer's replay projected past `budgetMs` is measured over `fallbackMeasured` requests only. */
const ZIPF_PEER = { budgetMs: 60_000, fallbackMeasured: 300_000 };

export interface HitRatioRow {
  policy: string;
  result: HitRatioResult;
  note: string;
}

export interface HitRatios {
  rows: HitRatioRow[];
  /** The frequency-optimal ratio: the bound. */
  optimal: number;
}

/** Replays one trace through our W-TinyLFU, a plain LRU and the peers' bounded memory tiers. */
export async function hitRatios(): Promise<HitRatios> {
  const { n, s, capacity, warmup, measured } = ZIPF;
  const trace = zipfTrace(n, s, warmup, measured);
  const tinyLfu = new WTinyLfu<number>({ maxEntries: capacity });
  const lru = new MapLru<number>(capacity);
  const rows: HitRatioRow[] = [
    {
      policy: 'ours: `WTinyLfu` (the L1 policy)',
      result: replaySync({ get: (k) => tinyLfu.get(k), set: (k, v) => void tinyLfu.set(k, v, 1) }, trace),
      note: '',
    },
    {
      policy: 'plain LRU (Map, same capacity)',
      result: replaySync({ get: (k) => lru.get(k), set: (k, v) => lru.set(k, v) }, trace),
      note: '',
    },
    await bentocacheMemory(trace),
    await cacheablePrimary(trace),
  ];
  for (const row of rows) progress(`  Zipf        ${row.policy}: ${fixed(row.result.ratio, 4)}`);
  return { rows, optimal: frequencyOptimalHitRatio(n, s, capacity) };
}

async function bentocacheMemory(trace: Trace): Promise<HitRatioRow> {
  const { capacity } = ZIPF;
  const bento = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: capacity })) },
  });
  try {
    const result = await replayAsync(
      { get: (key) => bento.get({ key }), set: (key, value) => bento.set({ key, value }) },
      trace,
      ZIPF_PEER,
    );
    return { policy: `bentocache: \`memoryDriver({ maxItems: ${capacity} })\``, result, note: peerNote(result) };
  } finally {
    await bento.disconnectAll();
  }
}

async function cacheablePrimary(trace: Trace): Promise<HitRatioRow> {
  const { capacity } = ZIPF;
  const cache = new Cacheable({ primary: createKeyvMemory({ lruSize: capacity, useClone: false }) });
  try {
    const result = await replayAsync(
      { get: (key) => cache.get(key), set: (key, value) => cache.set(key, value) },
      trace,
      ZIPF_PEER,
    );
    return { policy: `cacheable: primary \`lruSize: ${capacity}\``, result, note: peerNote(result) };
  } finally {
    await cache.disconnect();
  }
}

function peerNote(result: HitRatioResult): string {
  const note = 'through its public async get/set';
  if (result.requests >= ZIPF.measured) return note;
  const budget = ZIPF_PEER.budgetMs / 1000;
  return `${note}; measured over ${int(result.requests)} requests only (a full replay was projected past ${budget} s)`;
}
