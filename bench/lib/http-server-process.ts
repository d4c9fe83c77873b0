import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { freePort, waitFor } from '../../test/support/free-port';

/**
 * An HTTP server under test as a child process of the benchmark, its stdout
 * and stderr appended to a log file (request logs stay on, as in
 * production, without the benchmark holding them in memory).
 */
export class HttpServerProcess {
  private readonly killOnExit = () => this.child.kill('SIGKILL');

  private constructor(
    readonly label: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    process.once('exit', this.killOnExit);
  }

  /** Spawns `node script [args]` with `env` and waits until `readyPath` answers 2xx. */
  static async start(options: {
    label: string;
    script: string;
    args?: (port: number) => string[];
    /** Node options before the script (e.g. `-r tsconfig-paths/register`). */
    nodeArgs?: string[];
    env?: Record<string, string>;
    logFile: string;
    readyPath: string;
  }): Promise<HttpServerProcess> {
    const port = await freePort();
    const log = openSync(options.logFile, 'a');
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), options.script, ...(options.args?.(port) ?? [])],
      {
        env: { ...process.env, NODE_OPTIONS: '', ...options.env, PORT: String(port) },
        stdio: ['ignore', log, log],
      },
    );
    closeSync(log);
    const server = new HttpServerProcess(options.label, port, child);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`${options.label} exited with ${code}: see ${options.logFile}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([
      waitFor(async () => (await fetch(`${server.url}${options.readyPath}`)).ok, 60_000, `${options.label} to answer`),
      exited,
    ]);
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** SIGTERM, SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    process.off('exit', this.killOnExit);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
