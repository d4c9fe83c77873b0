import { createClient } from '@redis/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../test/support/free-port';
import { answersPing } from '../../test/support/redis-server';

/**
 * A redis-server owned by the benchmark: a free port on 127.0.0.1, no
 * persistence, stopped by {@link stop} (and killed if the process exits
 * without calling it). The shared server on 6379 is never touched.
 */
export class BenchRedisServer {
  private readonly killOnExit = () => this.child.kill('SIGKILL');

  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    // Last resort when the process ends without `stop` (an uncaught error, process.exit elsewhere).
    process.once('exit', this.killOnExit);
  }

  /** Spawns the server and resolves once it answers PING (rejects after `timeoutMs`). */
  static async start(timeoutMs = 5_000): Promise<BenchRedisServer> {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    const server = new BenchRedisServer(port, child);
    const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));
    // Observed by the race below; this handler only keeps a late error from becoming an unhandled rejection.
    spawnFailed.catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    try {
      while (!(await Promise.race([answersPing(port), spawnFailed]))) {
        if (Date.now() > deadline)
          throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private get running(): boolean {
    // No pid: spawn itself failed (redis-server not on PATH), there is nothing to stop.
    return this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL if the server has not exited within `graceMs`. Idempotent. */
  async stop(graceMs = 2_000): Promise<void> {
    process.off('exit', this.killOnExit);
    if (!this.running) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** `redis_version` from INFO server. */
export async function redisVersion(url: string): Promise<string> {
  const client = createClient({ url });
  await client.connect();
  try {
    return /redis_version:(\S+)/.exec(await client.info('server'))?.[1] ?? 'unknown';
  } finally {
    await client.close();
  }
}
