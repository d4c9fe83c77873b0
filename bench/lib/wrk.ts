import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One wrk run's figures. */
export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Non-2xx/3xx responses plus socket errors (connect, read, write, timeout). */
  errors: number;
}

/** Fails early, with the install command, when wrk is not on PATH. */
export async function assertWrk(): Promise<void> {
  try {
    await run('wrk', ['--version']).catch((error: { stdout?: string; code?: unknown }) => {
      // wrk --version prints its banner and exits 1.
      if (typeof error.stdout === 'string' && error.stdout.includes('wrk')) return;
      throw error;
    });
  } catch {
    throw new Error('wrk is not installed: apt-get update && apt-get install -y wrk');
  }
}

const toMs = (value: string, unit: string): number =>
  Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[unit];

/** Parses `wrk --latency` output. */
export function parseWrk(output: string): WrkResult {
  const latency = (pct: string) => {
    const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
    return m ? toMs(m[1], m[2]) : NaN;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return { rps, p50Ms: latency('50'), p99Ms: latency('99'), requests, errors: non2xx + socketErrors };
}

/** Runs wrk from its own process (one thread: the other core is the server's). */
export async function wrk(
  url: string,
  options: { connections: number; seconds: number; headers?: Record<string, string>; script?: string },
): Promise<WrkResult> {
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency', '--timeout', '5s'];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  if (options.script) args.push('-s', options.script);
  const { stdout } = await run('wrk', [...args, url], { maxBuffer: 1 << 20 });
  return parseWrk(stdout);
}

/**
 * A wrk Lua script that sends GETs rotating over `paths` (each with its own
 * extra headers, e.g. an If-None-Match), every request with `headers`.
 */
export function rotatingScript(
  paths: readonly string[],
  headers: Record<string, string>,
  perPath: ReadonlyArray<Record<string, string>> = [],
): string {
  const lua = (text: string) => JSON.stringify(text); // a JSON string is a valid Lua string literal here (ASCII)
  const table = (h: Record<string, string>) =>
    `{ ${Object.entries(h)
      .map(([k, v]) => `[${lua(k)}] = ${lua(v)}`)
      .join(', ')} }`;
  const requests = paths.map((path, i) => `wrk.format("GET", ${lua(path)}, ${table({ ...headers, ...perPath[i] })})`);
  return [
    'local requests = {}',
    'init = function()',
    ...requests.map((r, i) => `  requests[${i + 1}] = ${r}`),
    'end',
    'local i = 0',
    'request = function()',
    '  i = i % #requests + 1',
    '  return requests[i]',
    'end',
    '',
  ].join('\n');
}
