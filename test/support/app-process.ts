import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort, waitFor } from './free-port';

/** The compiled entry point (`npm run build`). */
export const MAIN_JS = resolve(__dirname, '../../dist/apps/api/src/main.js');

/** The variables a test must control; the rest of the environment is inherited minus these. */
const CONTROLLED = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'DATABASE_PASSWORD',
  'DATA_DIR',
  'REDIS_URL',
  'REDIS_PASSWORD',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_MASTER',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_CLUSTER_NODES',
  'CACHE_BACKEND',
  'CACHE_PREFIX',
  'NODE_ENV',
  'LOG_LEVEL',
  'HTTP_LOG',
  'METRICS_TOKEN',
  'AI_PROVIDER',
  'AI_BASE_URL',
  'AI_API_KEY',
  'AI_MODEL',
  'JWT_SECRET',
];

/** Runs the compiled app as a child process, as `npm start` would. */
export class AppProcess {
  private child?: ChildProcess;
  output = '';

  private constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly cwd: string,
  ) {}

  /** Starts the app and waits until `/health/live` answers. */
  static async start(env: Record<string, string>, cwd: string): Promise<AppProcess> {
    const app = new AppProcess(await freePort(), env, cwd);
    await app.restart();
    return app;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run npm run build first`);
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CONTROLLED.includes(k)));
    const child = spawn(process.execPath, [MAIN_JS], {
      cwd: this.cwd,
      env: { ...inherited, NODE_OPTIONS: '', HTTP_LOG: 'false', ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`app exited with ${code}`))),
    );
    exited.catch(() => undefined);
    const live = waitFor(
      async () => (await fetch(`${this.baseUrl}/health/live`)).ok,
      30_000,
      'the app to answer /health/live',
    );
    await Promise.race([live, exited]).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- app output ---\n${this.output}`);
    });
  }

  /** The pid of the running child, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGKILL (no shutdown hooks run) and wait for the exit. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    return exited;
  }

  /** GET with a client-side deadline; returns status, JSON body and elapsed milliseconds. */
  get(path: string, timeoutMs = 5_000): Promise<{ status: number; body: any; ms: number; headers: Headers }> {
    return this.send('GET', path, { timeoutMs });
  }

  /**
   * Any request, with an optional JSON body and bearer token, under a
   * client-side deadline; returns status, body (parsed when JSON), elapsed
   * milliseconds and the response headers.
   */
  async send(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; timeoutMs?: number } = {},
  ): Promise<{ status: number; body: any; ms: number; headers: Headers }> {
    const started = performance.now();
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON (Prometheus text, an empty 204) */
    }
    return { status: response.status, body, ms: performance.now() - started, headers: response.headers };
  }
}

/** Runs the compiled app to completion (for boot failures); resolves with exit code and output. */
export function runToExit(
  env: Record<string, string>,
  cwd: string,
  timeoutMs = 30_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CONTROLLED.includes(k)));
    const child = spawn(process.execPath, [MAIN_JS], {
      cwd,
      env: { ...inherited, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`did not exit within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}
