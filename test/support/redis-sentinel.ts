import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { freePort, waitFor } from './free-port';
import { answersPing, TestRedisServer } from './redis-server';

/** The name the sentinels monitor. */
export const SENTINEL_MASTER = 'bp-master';

/**
 * A Sentinel deployment of the test's own: a master, one replica and three
 * sentinels (quorum 2), on free ports, with short failure detection (1 s)
 * so that a failover takes a few seconds. The shared Redis is never touched.
 */
export class TestSentinelGroup {
  private constructor(
    /** The servers by port: the first started as master, the second as its replica (roles change on failover). */
    readonly servers: Map<number, TestRedisServer>,
    readonly sentinelPorts: number[],
    private readonly sentinels: ChildProcess[],
    private readonly dir: string,
  ) {}

  /** Starts the group; `sentinelPorts` picks the sentinels' ports (free ones otherwise). */
  static async start(options: { password?: string; sentinelPorts?: number[] } = {}): Promise<TestSentinelGroup> {
    const master = await TestRedisServer.start({ password: options.password });
    const replica = await TestRedisServer.start({ password: options.password, replicaOf: master.port });
    const dir = mkdtempSync(join(tmpdir(), 'bp-sentinel-'));
    const ports = options.sentinelPorts ?? [await freePort(), await freePort(), await freePort()];
    const sentinels = ports.map((port) => {
      // Sentinel rewrites its file: each gets its own, in a directory removed at stop.
      const file = join(dir, `sentinel-${port}.conf`);
      const lines = [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
        `sentinel failover-timeout ${SENTINEL_MASTER} 10000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
      ];
      if (options.password !== undefined) lines.push(`sentinel auth-pass ${SENTINEL_MASTER} ${options.password}`);
      writeFileSync(file, lines.join('\n') + '\n');
      return spawn('redis-server', [file, '--sentinel'], { stdio: 'ignore' });
    });
    const group = new TestSentinelGroup(
      new Map([
        [master.port, master],
        [replica.port, replica],
      ]),
      ports,
      sentinels,
      dir,
    );
    await Promise.all(ports.map((port) => waitFor(() => answersPing(port), 5_000, `sentinel on ${port}`)));
    // Ready once every sentinel knows the replica and the other sentinels (they find each other through the master).
    await waitFor(
      async () => {
        for (const port of ports) {
          const info = await group.sentinelCommand(port, ['SENTINEL', 'MASTER', SENTINEL_MASTER]);
          const fields = toRecord(info as string[]);
          if (fields['num-slaves'] !== '1' || fields['num-other-sentinels'] !== '2') return false;
        }
        return true;
      },
      20_000,
      'the sentinels to see the replica and each other',
    );
    return group;
  }

  /** `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`, as `REDIS_SENTINELS` takes it. */
  get nodes(): string {
    return this.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',');
  }

  /** The master's port as the first sentinel reports it. */
  async masterPort(): Promise<number> {
    const reply = (await this.sentinelCommand(this.sentinelPorts[0], [
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      SENTINEL_MASTER,
    ])) as string[];
    return Number(reply[1]);
  }

  /** The master's server. */
  async master(): Promise<TestRedisServer> {
    return this.servers.get(await this.masterPort())!;
  }

  /** `SENTINEL FAILOVER`: a graceful switch to the replica. */
  async failover(): Promise<void> {
    await this.sentinelCommand(this.sentinelPorts[0], ['SENTINEL', 'FAILOVER', SENTINEL_MASTER]);
  }

  /** Waits until every sentinel names a master other than `port`, and it answers as a master. */
  async waitForMasterOtherThan(port: number, timeoutMs = 30_000): Promise<number> {
    let current = port;
    await waitFor(
      async () => {
        const seen = await Promise.all(
          this.sentinelPorts.map(async (p) => {
            const reply = (await this.sentinelCommand(p, [
              'SENTINEL',
              'GET-MASTER-ADDR-BY-NAME',
              SENTINEL_MASTER,
            ])) as string[];
            return Number(reply[1]);
          }),
        );
        if (seen.some((p) => p !== seen[0]) || seen[0] === port) return false;
        current = seen[0];
        const role = (await this.serverCommand(current, ['ROLE'])) as unknown[];
        return role[0] === 'master';
      },
      timeoutMs,
      `a master other than ${port}`,
    );
    return current;
  }

  /** A command on one of the data servers (with the password when there is one). */
  async serverCommand(port: number, args: string[]): Promise<unknown> {
    const server = this.servers.get(port)!;
    return once(server.url, args);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.sentinels.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    await Promise.all([...this.servers.values()].map((server) => server.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private sentinelCommand(port: number, args: string[]): Promise<unknown> {
    return once(`redis://127.0.0.1:${port}`, args);
  }
}

/** One command on a fresh connection (no offline queue, short deadlines). */
async function once(url: string, args: string[]): Promise<unknown> {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 1_000, reconnectStrategy: false },
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

function toRecord(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}
