import { RedisTimeoutError } from './redis.errors';

/**
 * How often in-flight deadlines are checked. A deadline fires between
 * `timeoutMs` and `timeoutMs + SWEEP_MS` after the call started.
 */
export const SWEEP_MS = 5;

/** One call under a deadline; `done` once it settled (or timed out). */
interface Pending {
  readonly at: number;
  readonly timeoutMs: number;
  readonly what: string;
  readonly reject: (error: Error) => void;
  done: boolean;
}

/**
 * Every deadline of the process in one list, checked by one periodic sweep.
 * A `setTimeout` per Redis call (create, insert into the timer list, clear)
 * costs about as much as the rest of our client-side work on a cache hit;
 * registering here is an array push and settling is a flag. The sweep timer
 * runs only while calls are in flight and never keeps the process alive.
 */
class DeadlineSweeper {
  private pending: Pending[] = [];
  private timer?: NodeJS.Timeout;

  add(entry: Pending): void {
    this.pending.push(entry);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), SWEEP_MS);
      this.timer.unref();
    }
  }

  private sweep(): void {
    const now = performance.now();
    const expired: Pending[] = [];
    let kept = 0;
    // Compacts in place: settled entries are dropped, expired ones collected.
    for (const entry of this.pending) {
      if (entry.done) continue;
      if (entry.at <= now) expired.push(entry);
      else this.pending[kept++] = entry;
    }
    this.pending.length = kept;
    if (kept === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    // Rejected after the list is consistent: a rejection handler may start new calls.
    for (const entry of expired) {
      entry.done = true;
      entry.reject(new RedisTimeoutError(`${entry.what} did not answer within ${entry.timeoutMs} ms`));
    }
  }
}

const sweeper = new DeadlineSweeper();

/**
 * Rejects with `RedisTimeoutError` when `operation` has not settled within
 * `timeoutMs` (checked every `SWEEP_MS`). node-redis's own `timeout` command
 * option only covers the time before a command is written to the socket: a
 * Redis that accepted the bytes and then stopped answering (SIGSTOP, a
 * blackholed network) would keep the caller waiting forever without this.
 */
export function withDeadline<T>(operation: Promise<T>, timeoutMs: number, what = 'Redis command'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const entry: Pending = { at: performance.now() + timeoutMs, timeoutMs, what, reject, done: false };
    sweeper.add(entry);
    // Also handles the late reply (or error) of a timed-out command, which must
    // not surface as an unhandled rejection; settling twice is a no-op.
    operation.then(
      (value) => {
        entry.done = true;
        resolve(value);
      },
      (error: Error) => {
        entry.done = true;
        reject(error);
      },
    );
  });
}
