import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { freePort, waitFor } from './free-port';

/** PING over a raw socket: true when a server on `port` answers +PONG within 300 ms. */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(300, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/**
 * A redis-server of the test's own, on a free port, that the test may kill,
 * pause (SIGSTOP) and restart. The shared server on 6379 is never touched.
 */
export class TestRedisServer {
  private process?: ChildProcess;

  private constructor(readonly port: number) {}

  /** Starts a server with no persistence on a free port. */
  static async start(): Promise<TestRedisServer> {
    return TestRedisServer.startOn(await freePort());
  }

  /** Starts a server with no persistence on `port`. */
  static async startOn(port: number): Promise<TestRedisServer> {
    const server = new TestRedisServer(port);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** True while the server process has not exited. */
  get running(): boolean {
    return !!this.process && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Starts (again) on the same port. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('redis-server is already running');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    this.process = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor(() => answersPing(this.port), 5_000, `redis-server on ${this.port}`);
  }

  /** SIGKILL: connections drop at once, as in a crash. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP: connections stay open and nothing answers. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  /** SIGCONT after `pause`. */
  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** Resumes if paused and kills the server. */
  async stop(): Promise<void> {
    this.resume();
    await this.kill();
  }
}
