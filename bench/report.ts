/**
 * `npm run bench:report` (the last step of `npm run bench`): reads the
 * results every benchmark wrote to `bench/results/*.md`, draws a PNG chart of
 * throughput and p99 per scenario (ours, the peers and the physical
 * reference side by side) into `bench/results/charts/`, and writes
 * `bench/results/REPORT.md`: the charts, the targets each benchmark checked,
 * and where each number comes from. It measures nothing itself.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { renderChart, roleOf, type ChartRow } from './lib/charts';
import { table } from './lib/markdown';
import { column, numberIn, parseSections, section, type ParsedSection, type ParsedTable } from './lib/markdown-tables';
import { progress } from './lib/progress';

const RESULTS = join(process.cwd(), 'bench', 'results');
const CHARTS = join(RESULTS, 'charts');

/**
 * When a results file was written: the date it states itself, else when it
 * was last committed (a clone's files all carry the checkout's time), else
 * the file's own time.
 */
function writtenAt(path: string, text: string): string {
  const stated = /^- date: (\S+)/m.exec(text)?.[1];
  if (stated) return `written ${stated}`;
  try {
    const committed = execFileSync('git', ['log', '-1', '--format=%cI', '--', path], { encoding: 'utf8' }).trim();
    if (committed && !execFileSync('git', ['status', '--porcelain', '--', path], { encoding: 'utf8' }).trim()) {
      return `committed ${new Date(committed).toISOString()}`;
    }
  } catch {
    // Not a git checkout: the file's time is all there is.
  }
  return `written ${statSync(path).mtime.toISOString()}`;
}

/** One chart: which table of which results file, and which columns. */
interface ChartSource {
  file: string;
  name: string;
  title: string;
  section: string[];
  /** Which table of the section (0: the first). */
  table?: number;
  label: string;
  throughput: { column: string; nth?: number; title: string };
  p99: { column: string; nth?: number; title: string };
  /** Rows to leave out (e.g. a contender with no shared tier in an L2 chart). */
  skip?: RegExp;
}

const CACHE_P99 = { column: 'p99 (µs)', title: 'p99 (µs)' };
const CHARTS_BY_BENCH: Array<{ bench: string; file: string; intro: string; sources: ChartSource[] }> = [
  {
    bench: 'Cache core: `TieredCache` against cache-manager 7, cacheable 2, bentocache 1.6 and a raw node-redis client',
    file: 'cache.md',
    intro: 'Calls through each library on one redis-server of the benchmark’s own; ours is `getOrSet`.',
    sources: [
      { name: 'cache-l1-hit', title: 'L1 hit, one call in flight' },
      { name: 'cache-l2-hit', title: 'L2 hit (a second instance), one call in flight', section: ['L2 hit'] },
      { name: 'cache-miss', title: 'Miss and load, one call in flight', section: ['Miss and load'] },
    ]
      .map((s) => ({
        file: 'cache.md',
        section: ['L1 hit'],
        label: 'contender',
        throughput: { column: 'ops/s', title: 'calls/s' },
        p99: CACHE_P99,
        ...s,
      }))
      .concat(
        [16, 64].flatMap((n) => [
          {
            file: 'cache.md',
            name: `cache-l2-hit-${n}`,
            title: `L2 hit, ${n} calls in flight`,
            section: ['Calls in flight', `${n} in flight`],
            label: 'contender',
            throughput: { column: 'L2 hit ops/s', title: 'calls/s' },
            p99: { column: 'p99 (µs)', nth: 0, title: 'p99 (µs)' },
          },
          {
            file: 'cache.md',
            name: `cache-miss-${n}`,
            title: `Miss and load, ${n} calls in flight`,
            section: ['Calls in flight', `${n} in flight`],
            label: 'contender',
            throughput: { column: 'miss+load ops/s', title: 'calls/s' },
            p99: { column: 'p99 (µs)', nth: 1, title: 'p99 (µs)' },
          },
        ]),
      ),
  },
  {
    bench: 'Query cache: `qc.cached(repo)` against TypeORM uncached and TypeORM’s own Redis query cache',
    file: 'query-cache.md',
    intro: 'Warm reads, one call in flight; "ours, L2 hit" is a second instance whose L1 holds one entry.',
    sources: ['Postgres: `findOne`', 'Postgres: paged list', 'PGlite: `findOne`', 'PGlite: paged list'].map(
      (heading, i) => ({
        file: 'query-cache.md',
        name: `query-${['pg-find-one', 'pg-list', 'pglite-find-one', 'pglite-list'][i]}`,
        title: heading.replace(/`/g, ''),
        section: [heading],
        label: 'contender',
        throughput: { column: 'ops/s', title: 'reads/s' },
        p99: { column: 'p99 µs', title: 'p99 (µs)' },
      }),
    ),
  },
  {
    bench:
      'HTTP: the compiled app against a stock Nest 12 app, the stock `CacheInterceptor` and a bare `node:http` server',
    file: 'http.md',
    intro: 'wrk in its own process; medians of interleaved rounds.',
    sources: [32, 64].map((n) => ({
      file: 'http.md',
      name: `http-${n}`,
      title: `HTTP, ${n} connections`,
      section: [`${n} connections`],
      label: 'route',
      throughput: { column: 'req/s', title: 'requests/s' },
      p99: { column: 'p99 ms', title: 'p99 (ms)' },
    })),
  },
  {
    bench: 'AI completion cache: the app answering a replayed prompt trace, cache off, cold and warm',
    file: 'ai.md',
    intro: '16 users, a simulated provider at 300 ms.',
    sources: [
      {
        file: 'ai.md',
        name: 'ai',
        title: 'Answers through POST /conversations/:id/messages',
        section: [],
        label: 'row',
        throughput: { column: 'answers/s', title: 'answers/s' },
        p99: { column: 'p99 ms', title: 'p99 (ms)' },
      },
    ],
  },
  {
    bench: 'Chaos: Redis killed and paused, Postgres paused, under load',
    file: 'chaos.md',
    intro: '16 clients on cached reads (then with 10 % writes); one bar per phase.',
    sources: ['Cached reads only', 'Cached reads with 10 % writes'].map((heading, i) => ({
      file: 'chaos.md',
      name: `chaos-${i === 0 ? 'reads' : 'writes'}`,
      title: heading,
      section: [heading],
      label: 'phase',
      throughput: { column: 'reads/s', title: 'reads/s' },
      p99: { column: 'p99 (ms)', title: 'read p99 (ms)' },
    })),
  },
];

/** Tables of targets the benchmarks check (a `met` column), quoted as they are. */
function targetTables(sections: readonly ParsedSection[]): Array<{ heading: string; table: ParsedTable }> {
  return sections.flatMap((s) =>
    s.tables.filter((t) => t.header.includes('met')).map((t) => ({ heading: s.path.join(' › '), table: t })),
  );
}

function rowsOf(source: ChartSource, sections: readonly ParsedSection[]): ChartRow[] {
  const found = source.section.length ? section(sections, ...source.section) : sections.find((s) => s.tables.length);
  const t = found?.tables[source.table ?? 0];
  if (!t) throw new Error(`no table in ${source.file} › ${source.section.join(' › ')}`);
  const label = column(t, source.label);
  const throughput = column(t, source.throughput.column, source.throughput.nth);
  const p99 = column(t, source.p99.column, source.p99.nth);
  return t.rows
    .filter((r) => !source.skip?.test(r[label]))
    .map((r) => ({
      label: r[label],
      role: roleOf(r[label]),
      throughput: numberIn(r[throughput]),
      p99: numberIn(r[p99]),
    }))
    .filter((r) => Number.isFinite(r.throughput));
}

async function main(): Promise<void> {
  rmSync(CHARTS, { recursive: true, force: true });
  mkdirSync(CHARTS, { recursive: true });
  const out: string[] = [
    '# Benchmark report',
    '',
    `Written by \`npm run bench\` (its last step, \`npm run bench:report\`) on ${new Date().toISOString()}, ` +
      `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB. ` +
      'Each section comes from one benchmark’s results file, written in that benchmark’s run (the time is given); ' +
      'every contender of a chart ran in that same run, on this machine. The VM is shared and noisy: compare ' +
      'the bars of one chart, not numbers across runs. Red is ours, blue the peers, grey the physical reference. ' +
      'How to reproduce, and how long it takes: [bench/README.md](../README.md).',
    '',
  ];
  const missing: string[] = [];
  for (const bench of CHARTS_BY_BENCH) {
    const path = join(RESULTS, bench.file);
    if (!existsSync(path)) {
      missing.push(bench.file);
      continue;
    }
    const text = readFileSync(path, 'utf8');
    const sections = parseSections(text);
    out.push(`## ${bench.bench}`, '');
    out.push(`From [${bench.file}](${bench.file}) (${writtenAt(path, text)}). ${bench.intro}`, '');
    for (const source of bench.sources) {
      const rows = rowsOf(source, sections);
      const png = await renderChart({
        title: source.title,
        throughputTitle: source.throughput.title,
        p99Title: source.p99.title,
        rows,
      });
      writeFileSync(join(CHARTS, `${source.name}.png`), png);
      out.push(`![${source.title}](charts/${source.name}.png)`, '');
      progress(`chart ${source.name}: ${rows.length} rows`);
    }
    for (const { heading, table: t } of targetTables(sections)) {
      out.push(`Targets (${heading}):`, '', table(t.header, t.rows), '');
    }
  }
  if (missing.length) {
    out.push('## Not in this report', '', `No results file yet for: ${missing.join(', ')} (run its benchmark).`, '');
  }
  writeFileSync(join(RESULTS, 'REPORT.md'), out.join('\n'));
  progress(`wrote ${join(RESULTS, 'REPORT.md')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
