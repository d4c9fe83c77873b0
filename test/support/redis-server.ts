import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { freePort, waitFor } from './free-port';

/** How {@link answersPing} reaches a server that only speaks TLS. */
export interface PingTlsOptions {
  /** PEM of the CA that signed the server certificate. */
  ca: string;
}

/**
 * PING over a raw socket: true when a server on `port` answers within 300 ms,
 * with `+PONG`, or with `-NOAUTH` (a `requirepass` server is up, it only
 * wants a password first).
 */
export function answersPing(port: number, tls?: PingTlsOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = tls
      ? tlsConnect({ host: '127.0.0.1', port, ca: tls.ca })
      : createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(300, () => done(false));
    socket.once('error', () => done(false));
    socket.once(tls ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

/** Options of {@link TestRedisServer}; each one is off unless given. */
export interface TestRedisServerOptions {
  /** `requirepass`: clients must authenticate; {@link TestRedisServer.url} carries it URL-encoded. */
  password?: string;
  /**
   * Serve TLS only (no plaintext port), with a server certificate for
   * 127.0.0.1 and localhost signed by a throwaway CA (see `caFile`).
   * Clients are not asked for certificates.
   */
  tls?: boolean;
  /** Start as a replica of the server on this port (127.0.0.1), with `masterauth` set to `password`. */
  replicaOf?: number;
  /** `cluster-enabled yes` (its `nodes.conf` in the server's own directory), failure detection after `cluster-node-timeout` 1 s. */
  cluster?: boolean;
}

/** The files of a throwaway CA and the server certificate it signed. */
export interface TestCertificates {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * Makes a CA and a server certificate (P-256, one day, SAN `IP:127.0.0.1`
 * and `DNS:localhost`) with openssl in a new temporary directory.
 */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'bp-redis-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=bp-test-ca');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const signedByCa = ['-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-extfile', 'ext.cnf'];
  openssl('x509', '-req', '-in', 'server.csr', ...signedByCa, '-out', 'server.crt', '-days', '1');
  return { dir, caFile: file('ca.crt'), certFile: file('server.crt'), keyFile: file('server.key') };
}

/**
 * Whether TLS tests can run here: openssl is on the PATH and redis-server was
 * built with TLS. Synchronous, so a spec can choose `describe` or
 * `describe.skip` (with the reason in its title) when it is defined.
 */
export function redisTlsSupport(): { supported: true } | { supported: false; reason: string } {
  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (openssl.status !== 0) return { supported: false, reason: 'openssl is not on the PATH' };
  // A TLS build tries to load the certificate (and fails: the file does not
  // exist) before it binds anything; a build without TLS never gets there.
  const missing = ['--tls-cert-file', '/nonexistent/bp.crt', '--tls-key-file', '/nonexistent/bp.key'];
  const probe = spawnSync('redis-server', ['--port', '0', '--tls-port', '1', '--tls-auth-clients', 'no', ...missing], {
    encoding: 'utf8',
    timeout: 5_000,
    killSignal: 'SIGKILL',
  });
  const output = `${probe.stdout ?? ''}${probe.stderr ?? ''}`;
  if (/Failed to load certificate/.test(output)) return { supported: true };
  const detail = probe.error ? probe.error.message : output.trim().split('\n').pop();
  return { supported: false, reason: `redis-server was not built with TLS (${detail ?? 'no output'})` };
}

/**
 * A redis-server of the test's own, on a free port, that the test may kill,
 * pause (SIGSTOP) and restart. The shared server on 6379 is never touched.
 */
export class TestRedisServer {
  private process?: ChildProcess;
  private certificates?: TestCertificates;
  private dataDir?: string;

  private constructor(
    readonly port: number,
    private readonly options: TestRedisServerOptions,
  ) {}

  /**
   * Starts a server with no persistence on a free port. A port is only known
   * to have been free a moment ago (another test may take it, or a cluster
   * node's bus port, 10,000 above), so a server that cannot start is tried
   * on another port, up to three times.
   */
  static async start(options: TestRedisServerOptions = {}): Promise<TestRedisServer> {
    for (let attempt = 1; ; attempt++) {
      const port = options.cluster ? await freeClusterPort() : await freePort();
      try {
        return await TestRedisServer.startOn(port, options);
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  }

  /** Starts a server with no persistence on `port`. */
  static async startOn(port: number, options: TestRedisServerOptions = {}): Promise<TestRedisServer> {
    const server = new TestRedisServer(port, options);
    await server.restart();
    return server;
  }

  /** `redis://` (`rediss://` with `tls`) with the URL-encoded password when there is one; database 0. */
  get url(): string {
    return this.urlFor();
  }

  /** Like `url`, with database index `db` and optionally another password (a wrong one, say). */
  urlFor(db?: number, password = this.options.password): string {
    const scheme = this.options.tls ? 'rediss' : 'redis';
    const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
    return `${scheme}://${auth}127.0.0.1:${this.port}${db === undefined ? '' : `/${db}`}`;
  }

  /** The CA certificate file clients must trust (`tls` servers only). */
  get caFile(): string | undefined {
    return this.certificates?.caFile;
  }

  /** True while the server process has not exited. */
  get running(): boolean {
    return !!this.process && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Starts (again) on the same port, with the same options. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('redis-server is already running');
    const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    if (this.options.password !== undefined) args.push('--requirepass', this.options.password);
    // A replica's full sync writes an RDB file to its directory (a master demoted by a failover
    // becomes one): never the working directory, which is the repository.
    this.dataDir ??= mkdtempSync(join(tmpdir(), 'bp-redis-'));
    args.push('--dir', this.dataDir);
    if (this.options.cluster) {
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000');
      if (this.options.password !== undefined) args.push('--masterauth', this.options.password);
    }
    if (this.options.replicaOf !== undefined) {
      args.push('--replicaof', '127.0.0.1', String(this.options.replicaOf));
      if (this.options.password !== undefined) args.push('--masterauth', this.options.password);
    }
    let tls: PingTlsOptions | undefined;
    if (this.options.tls) {
      if (!this.certificates || !existsSync(this.certificates.dir)) this.certificates = createTestCertificates();
      const { caFile, certFile, keyFile } = this.certificates;
      args.push('--port', '0', '--tls-port', String(this.port), '--tls-auth-clients', 'no');
      args.push('--tls-cert-file', certFile, '--tls-key-file', keyFile, '--tls-ca-cert-file', caFile);
      tls = { ca: readFileSync(caFile, 'utf8') };
    } else {
      args.push('--port', String(this.port));
    }
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.process = child;
    let onExit = (): void => undefined;
    const exited = new Promise<never>((_, reject) => {
      onExit = () => reject(new Error(`redis-server on ${this.port} exited as it started (its port taken?)`));
      child.once('exit', onExit);
    });
    exited.catch(() => undefined);
    try {
      await Promise.race([waitFor(() => answersPing(this.port, tls), 5_000, `redis-server on ${this.port}`), exited]);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    } finally {
      child.off('exit', onExit);
    }
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

  /** Resumes if paused, kills the server and deletes its certificates (a later `restart` makes new ones). */
  async stop(): Promise<void> {
    this.resume();
    await this.kill();
    if (this.certificates) rmSync(this.certificates.dir, { recursive: true, force: true });
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A free port whose cluster bus port (10,000 above) is a port, and was free a moment ago too. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 <= 65_535 && (await isFree(port + 10_000))) return port;
  }
}

/** Whether `port` on 127.0.0.1 could be listened on a moment ago. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
