import { CacheLockLostError } from '../cache.errors';
import type { Lease } from './distributed-lock';
import { LockLease, type LeaseBackend } from './lock-lease';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A backend whose renewal answers what the test says, counting calls. */
function backend(renew: () => Promise<'held' | 'lost'>) {
  const calls = { renew: 0, release: 0, lost: [] as unknown[] };
  const b: LeaseBackend = {
    renew: () => {
      calls.renew++;
      return renew();
    },
    release: () => {
      calls.release++;
      return Promise.resolve(true);
    },
    lost: (_lease: Lease, cause?: unknown) => calls.lost.push(cause),
  };
  return { b, calls };
}

describe(LockLease.name, () => {
  it('renews every third of its ttl while held and stops on release', async () => {
    const { b, calls } = backend(() => Promise.resolve('held'));
    const lease = new LockLease('job', 't', 1, 90, Date.now(), b);
    await sleep(200);
    expect(calls.renew).toBeGreaterThanOrEqual(3);
    expect(lease.held).toBe(true);
    expect(await lease.release()).toBe(true);
    const after = calls.renew;
    await sleep(100);
    expect(calls.renew).toBe(after);
    expect(lease.signal.aborted).toBe(false);
  });

  it('is lost, and its signal aborted, when a renewal finds another owner', async () => {
    const { b, calls } = backend(() => Promise.resolve('lost'));
    const lease = new LockLease('job', 't', 1, 60, Date.now(), b);
    await sleep(100);
    expect(lease.lost).toBe(true);
    expect(lease.held).toBe(false);
    expect(lease.signal.reason).toBeInstanceOf(CacheLockLostError);
    expect(calls.lost).toHaveLength(1);
    expect(await lease.release()).toBe(false);
    expect(calls.release).toBe(0);
  });

  it('stays held through failing renewals until its ttl has passed, then is lost', async () => {
    const { b, calls } = backend(() => Promise.reject(new Error('timeout')));
    const lease = new LockLease('job', 't', 1, 300, Date.now(), b);
    await sleep(150);
    expect(calls.renew).toBeGreaterThanOrEqual(1);
    expect(lease.held).toBe(true);
    await sleep(400);
    expect(lease.lost).toBe(true);
    expect((lease.signal.reason as CacheLockLostError).cause).toBeInstanceOf(Error);
  });
});
