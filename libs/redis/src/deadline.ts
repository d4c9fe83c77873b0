import { RedisTimeoutError } from './redis.errors';

/**
 * Rejects with `RedisTimeoutError` when `operation` has not settled within
 * `timeoutMs`. node-redis's own `timeout` command option only covers the time
 * before a command is written to the socket: a Redis that accepted the bytes
 * and then stopped answering (SIGSTOP, a blackholed network) would keep the
 * caller waiting forever without this race.
 */
export function withDeadline<T>(operation: Promise<T>, timeoutMs: number, what = 'Redis command'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  // The late reply (or error) of a timed-out command must not surface as an unhandled rejection.
  operation.catch(() => undefined);
  return Promise.race([operation, deadline]).finally(() => clearTimeout(timer));
}
