import { ROWS, PAGE, type QueryContender } from './query-contenders';
import { fixed, int, ratio, table } from './markdown';
import { inTurns, LatencyRecorder, runSequential, type LatencySample } from './stats';

/** Per contender and read: up to `calls` calls or `maxMs`, over `rounds` turns. */
export const QUERY_RUN = { calls: 200_000, maxMs: 4_000, rounds: 4, warmup: 2_000 };
const PAGES = ROWS / PAGE;

export type ReadKind = 'findOne' | 'page';

export interface QueryRow {
  engine: string;
  read: ReadKind;
  label: string;
  sample: LatencySample;
  /** Results whose content did not match the read (should be 0). */
  wrong: number;
}

const op = (c: QueryContender, read: ReadKind) =>
  read === 'findOne'
    ? async (i: number) => ((await c.findOne((i % ROWS) + 1))?.id === (i % ROWS) + 1 ? 0 : 1)
    : async (i: number) => ((await c.page(i % PAGES))[0]?.id === (i % PAGES) * PAGE + 1 ? 0 : 1);

/** Warms every contender (fills the caches), then measures them in turns. */
export async function measure(engine: string, contenders: readonly QueryContender[]): Promise<QueryRow[]> {
  const rows: QueryRow[] = [];
  for (const read of ['findOne', 'page'] as const) {
    const recorders = new Map(contenders.map((c) => [c, new LatencyRecorder(QUERY_RUN.calls, QUERY_RUN.maxMs)]));
    const wrong = new Map(contenders.map((c) => [c, 0]));
    for (const c of contenders) await runSequential(op(c, read), QUERY_RUN.warmup);
    const slice = QUERY_RUN.calls / QUERY_RUN.rounds;
    await inTurns(contenders, QUERY_RUN.rounds, async (c, round) => {
      const run = op(c, read);
      await recorders
        .get(c)!
        .run(async (i) => wrong.set(c, wrong.get(c)! + (await run(i))), round * slice, (round + 1) * slice);
    });
    for (const c of contenders)
      rows.push({ engine, read, label: c.label, sample: recorders.get(c)!.summary(), wrong: wrong.get(c)! });
  }
  return rows;
}

/** One table per engine and read; ratios against the uncached read and TypeORM's cache. */
export function renderQueryReport(
  rows: readonly QueryRow[],
  meta: { node: string; redis: string; postgres: string },
): string {
  const out = [
    '# Query cache benchmark',
    '',
    `Node ${meta.node}, Redis ${meta.redis}, ${meta.postgres}, PGlite (embedded, temp dir). ${ROWS} rows;`,
    `\`findOne\` by primary key over ${ROWS} ids, a paged list (\`find\`, ${PAGE} rows, order by id) over ${PAGES} pages.`,
    'Cached contenders are warm (every key read once before measuring): this is the hit path. "ours" is an L1 hit;',
    '"ours, L2 hit" is a second cache instance on the same Redis with a one-entry L1, so its reads go to Redis as TypeORM\'s do.',
    'Sequential awaited calls, contenders in turns; ratios compare within one run.',
    '',
  ];
  for (const engine of [...new Set(rows.map((r) => r.engine))]) {
    for (const read of ['findOne', 'page'] as const) {
      const group = rows.filter((r) => r.engine === engine && r.read === read);
      const base = group.find((r) => r.label.startsWith('uncached'))?.sample.opsPerSec ?? NaN;
      const orm = group.find((r) => r.label.startsWith('TypeORM'))?.sample.opsPerSec ?? NaN;
      out.push(`## ${engine}: ${read === 'findOne' ? '`findOne` by id' : `paged list (${PAGE} rows)`}`, '');
      out.push(
        table(
          ['contender', 'ops/s', 'p50 µs', 'p99 µs', '× uncached', "× TypeORM's cache", 'wrong'],
          group.map((r) => [
            r.label,
            int(r.sample.opsPerSec),
            fixed(r.sample.p50Us, 1),
            fixed(r.sample.p99Us, 1),
            ratio(r.sample.opsPerSec, base),
            ratio(r.sample.opsPerSec, orm),
            String(r.wrong),
          ]),
        ),
        '',
      );
    }
  }
  return out.join('\n');
}
