import { fixed, int, table } from './markdown';
import { median } from './stats';

/** A benchmarked route; `role` names it for the targets. */
export interface Row {
  label: string;
  url: string;
  headers?: Record<string, string>;
  /** A wrk Lua script (requests rotating over the hot ids), instead of `url` alone. */
  script?: string;
  role:
    | 'bare'
    | 'stock'
    | 'stockIntercepted'
    | 'ping'
    | 'auth'
    | 'me'
    | 'user'
    | 'query'
    | 'httpL1'
    | 'httpL2'
    | 'revalidate'
    | 'stockInterceptor'
    | 'uncached';
}

/** Medians of one row at one concurrency over the rounds. */
export interface Measured {
  row: Row;
  connections: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  requests: number;
  /** Each round's figures, in round order (ratios are taken within a round, where the machine was the same). */
  perRound: Array<{ rps: number; p99Ms: number }>;
}

type Figures = { rps: number; p99Ms: number };

interface Target {
  what: string;
  value: (at: (role: Row['role']) => Figures) => number;
  goal: number;
  /** true: value must be at least goal; false: at most. */
  atLeast: boolean;
}

const TARGETS: Target[] = [
  {
    what: 'our ping / stock Nest constant route (req/s)',
    value: (at) => at('ping').rps / at('stock').rps,
    goal: 0.8,
    atLeast: true,
  },
  {
    what: 'authenticated constant / our ping (req/s)',
    value: (at) => at('auth').rps / at('ping').rps,
    goal: 0.9,
    atLeast: true,
  },
  {
    what: 'GET /users/:id without the response cache (query cache L1 hit) / our ping (req/s)',
    value: (at) => at('query').rps / at('ping').rps,
    goal: 0.6,
    atLeast: true,
  },
  {
    what: 'GET /users/:id without the response cache, p99 / our ping p99',
    value: (at) => at('query').p99Ms / at('ping').p99Ms,
    goal: 2,
    atLeast: false,
  },
  {
    what: 'HTTP cache L1 hit / our ping (req/s)',
    value: (at) => at('httpL1').rps / at('ping').rps,
    goal: 0.8,
    atLeast: true,
  },
  {
    what: 'HTTP cache L1 hit / stock CacheInterceptor (req/s)',
    value: (at) => at('httpL1').rps / at('stockInterceptor').rps,
    goal: 2,
    atLeast: true,
  },
  {
    what: 'HTTP cache L1 hit / uncached Postgres read (req/s)',
    value: (at) => at('httpL1').rps / at('uncached').rps,
    goal: 5,
    atLeast: true,
  },
  {
    what: 'HTTP cache L1 hit p99 / stock CacheInterceptor p99',
    value: (at) => at('httpL1').p99Ms / at('stockInterceptor').p99Ms,
    goal: 1,
    atLeast: false,
  },
];

/** The markdown report: one table per concurrency, then the targets. */
export function renderHttpReport(input: {
  measured: Measured[];
  rounds: number;
  seconds: number;
  node: string;
  /** Lines added under the header (how the rows were set up, what was checked). */
  notes?: string[];
}): string {
  const levels = [...new Set(input.measured.map((m) => m.connections))];
  const sections = levels.map((connections) => {
    const rows = input.measured.filter((m) => m.connections === connections);
    const ping = rows.find((m) => m.row.role === 'ping')!;
    const at = (role: Row['role']) => rows.find((m) => m.row.role === role)!;
    const rounds = ping.perRound.map((_, r) => (role: Row['role']) => at(role).perRound[r]);
    // The machine's speed drifts between rounds: a ratio is taken within each round, then the median.
    const inRounds = (value: (at: (role: Row['role']) => Figures) => number) => rounds.map((round) => value(round));
    const pingRatio = (m: Measured) => median(m.perRound.map((r, i) => r.rps / ping.perRound[i].rps));
    const body = table(
      ['route', 'req/s', '× our ping (median of rounds)', 'p50 ms', 'p99 ms', 'non-2xx / errors'],
      rows.map((m) => [
        m.row.label,
        int(m.rps),
        `${fixed(pingRatio(m), 2)}×`,
        fixed(m.p50Ms, 2),
        fixed(m.p99Ms, 2),
        `${m.errors} of ${int(m.requests)}`,
      ]),
    );
    const targets = table(
      ['target', 'goal', 'median of rounds', 'rounds', 'met'],
      TARGETS.map((t) => {
        const values = inRounds(t.value);
        const value = median(values);
        const met = t.atLeast ? value >= t.goal : value <= t.goal;
        const each = values.map((v) => fixed(v, 2)).join(', ');
        return [t.what, `${t.atLeast ? '≥' : '≤'} ${t.goal}`, fixed(value, 2), each, met ? 'yes' : 'no'];
      }),
    );
    return `## ${connections} connections\n\n${body}\n\n${targets}`;
  });
  return [
    '# HTTP benchmark',
    '',
    `Node ${input.node}; wrk -t1 from its own process; medians of ${input.rounds} rounds of ${input.seconds} s per row, rows interleaved, each after a warm-up; ratios are taken within each round (the shared VM's speed drifts between rounds) and their median shown.`,
    'The app runs compiled (`dist/`) with NODE_ENV=production, Postgres, its own redis-server, request logs on (written to bench/results/http-app.log), and the general rate limit on with a limit one user cannot reach.',
    ...(input.notes ?? []),
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
}
