import { randomBytes } from 'node:crypto';
import type { AppProcess } from './app-process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A registered user, logged in on another instance than the one that registered it. */
export interface TestAccount {
  id: string;
  token: string;
  refresh: string;
}

/**
 * The checks the Sentinel and Cluster specs run against compiled app
 * instances around a failover: accounts, reads after writes on every
 * instance, reads during an outage, revocations everywhere, health.
 */
export class FailoverChecks {
  private users = 0;

  constructor(
    private readonly apps: () => AppProcess[],
    private readonly label: string,
  ) {}

  /** Registers on the first instance, logs in on the second. */
  async account(): Promise<TestAccount> {
    const [first, second = first] = this.apps();
    const email = `${this.label}-${this.users++}-${randomBytes(3).toString('hex')}@example.com`;
    const password = 'correct horse battery';
    const registered = await first.send('POST', '/api/v1/auth/register', { body: { email, password, name: 'v0' } });
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
    const login = await second.send('POST', '/api/v1/auth/login', { body: { email, password } });
    if (login.status !== 200) throw new Error(`login answered ${login.status}`);
    return { id: registered.body.id, token: login.body.accessToken, refresh: login.body.refreshToken };
  }

  /**
   * A write on instance `writer`, then `reads` (HTTP- and query-cached) reads
   * on every instance, each made after the write's response: all see it.
   */
  async writeThenRead(user: { id: string; token: string }, name: string, writer: number, reads = 1): Promise<void> {
    const apps = this.apps();
    const patched = await apps[writer].send('PATCH', `/api/v1/users/${user.id}`, { token: user.token, body: { name } });
    expect(patched.status).toBe(200);
    for (const app of apps) {
      for (let i = 0; i < reads; i++) {
        const read = await app.send('GET', `/api/v1/users/${user.id}`, { token: user.token });
        expect({ status: read.status, name: read.body.name }).toEqual({ status: 200, name });
      }
    }
  }

  /** Cached reads on the instances in turn, every 20 ms, until `until` resolves: their statuses. */
  async readsDuring(user: { id: string; token: string }, until: Promise<unknown>): Promise<number[]> {
    const apps = this.apps();
    const statuses: number[] = [];
    let done = false;
    void until.finally(() => (done = true)).catch(() => undefined);
    for (let i = 0; !done; i++) {
      const read = await apps[i % apps.length].send('GET', `/api/v1/users/${user.id}`, {
        token: user.token,
        timeoutMs: 5_000,
      });
      statuses.push(read.status);
      await sleep(20);
    }
    await until;
    return statuses;
  }

  /**
   * The revoked token is refused by every instance within 1.5 s: the bus
   * takes milliseconds; while it cannot deliver (no master), Postgres is
   * read every 500 ms.
   */
  async refusedEverywhere(token: string): Promise<void> {
    for (const [i, app] of this.apps().entries()) {
      const started = performance.now();
      let status = 200;
      while (status !== 401 && performance.now() - started < 1_500) {
        status = (await app.send('GET', '/api/v1/auth/me', { token })).status;
        if (status !== 401) await sleep(20);
      }
      // A failure names the instance and shows its log: which revocation path (bus, poll) missed.
      if (status !== 401) {
        throw new Error(`instance ${i} still accepts a revoked token (${status})\n${app.output.slice(-4000)}`);
      }
    }
  }
}

/** Waits until `/health/redis` answers 200. */
export async function waitForRedisHealth(app: AppProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await app.get('/health/redis')).status !== 200) {
    if (Date.now() > deadline) throw new Error(`Redis never healthy\n${app.output.slice(-3000)}`);
    await sleep(100);
  }
}
