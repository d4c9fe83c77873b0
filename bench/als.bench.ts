/**
 * What AsyncLocalStorage costs a request, on the Node running this script:
 * a request modelled as a chain of awaits (about what Nest's guards, pipes,
 * handler and interceptors add), 64 in flight, with and without `als.run()`
 * around it and one `getStore()` inside. Node 20 propagates the store with
 * promise hooks (every promise pays once a store is active); Node 24
 * implements it without them. Run with `npm run bench:als` (or any node:
 * `node dist/bench/bench/als.bench.js`); prints a markdown table.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const IN_FLIGHT = 64;
const REQUESTS = 200_000;
const AWAITS = 12;

const als = new AsyncLocalStorage<{ id: number }>();

async function step(n: number): Promise<number> {
  await Promise.resolve();
  return n + 1;
}

async function request(id: number, useStore: boolean): Promise<number> {
  let n = id;
  for (let i = 0; i < AWAITS; i++) n = await step(n);
  return useStore ? n + (als.getStore()?.id ?? 0) : n;
}

async function run(label: string, start: (id: number) => Promise<number>): Promise<[string, number]> {
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) await start(next++);
  };
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const used = process.cpuUsage(cpu);
  return [label, ((used.user + used.system) * 1000) / REQUESTS];
}

async function main(): Promise<void> {
  const rows: Array<[string, number]> = [];
  for (let round = 0; round < 3; round++) {
    rows.push(await run('no AsyncLocalStorage', (id) => request(id, false)));
    rows.push(await run('als.run() per request + getStore()', (id) => als.run({ id }, () => request(id, true))));
  }
  const best = new Map<string, number>();
  for (const [label, ns] of rows) best.set(label, Math.min(best.get(label) ?? Infinity, ns));
  const [base, withAls] = [...best.values()];
  process.stdout.write(
    [
      `Node ${process.version}: ${REQUESTS} modelled requests of ${AWAITS} awaits, ${IN_FLIGHT} in flight (CPU ns per request, best of 3)`,
      '',
      '| variant | ns / request |',
      '| --- | ---: |',
      ...[...best].map(([label, ns]) => `| ${label} | ${Math.round(ns)} |`),
      `| cost of AsyncLocalStorage | ${Math.round(withAls - base)} |`,
      '',
    ].join('\n'),
  );
}

void main();
