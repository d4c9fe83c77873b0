import { NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { CacheService, CacheUnavailableError, withoutSlotGroup, type EntryInspection } from '@app/cache';
import { isConnectionFailure, RedisConnection } from '@app/redis';

/** Largest value shown in a key's detail (characters of JSON); longer ones are cut and marked `truncated`. */
export const MAX_SHOWN_CHARS = 16 * 1024;

/** `*`, `?`, `[`, `]` and `\` are Redis glob characters: each is escaped, so a client's text is matched literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** A value as text for the dashboard: JSON, cut at `MAX_SHOWN_CHARS`. */
function shown(value: unknown): { text: string; truncated: boolean } {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN_CHARS
    ? { text: text.slice(0, MAX_SHOWN_CHARS), truncated: true }
    : { text, truncated: false };
}

/** One key of a `SCAN` page, relative to `{prefix}:c:`. */
export interface BrowsedKey {
  key: string;
  namespace: string;
}

/**
 * Key browsing confined to the app's entries (`{prefix}:c:*`): `SCAN` with a
 * pattern that starts with the escaped prefix and contains the client's text
 * only escaped, so no client input can list, show or delete a key outside
 * it. Never `KEYS`, `FLUSHDB` or `FLUSHALL`. Goes through the cache's breaker
 * and the command deadline.
 */
export class KeyBrowser {
  constructor(
    private readonly cache: CacheService,
    private readonly redis: RedisConnection | undefined,
  ) {}

  /**
   * One `SCAN` step: the next cursor (`"0"` when done) and the keys containing
   * `match`. On a cluster, the masters are scanned one after the other: the
   * cursor is the master's index + 10 (two digits) followed by its own
   * cursor, and keys are shown without their slot group's hash tag.
   */
  async scan(match: string, cursor: string, count: number): Promise<{ cursor: string; keys: BrowsedKey[] }> {
    const prefix = this.cache.entryKeyPrefix;
    const pattern = `${escapeGlob(prefix)}*${escapeGlob(match)}*`;
    const { next, found } = await this.onRedis(async () => {
      const nodes = await this.redis!.nodes();
      const [at, nodeCursor] = nodes.length === 1 || cursor === '0' ? [0, cursor] : splitCursor(cursor);
      if (at >= nodes.length) return { next: '0', found: [] as string[] };
      const reply = await nodes[at].scan(nodeCursor, { MATCH: pattern, COUNT: count });
      const done = String(reply.cursor) === '0';
      const following = nodes.length === 1 ? String(reply.cursor) : done ? `${at + 11}0` : `${at + 10}${reply.cursor}`;
      return { next: done && at + 1 >= nodes.length ? '0' : following, found: reply.keys.map(String) };
    });
    const keys = [...new Set(found)]
      .filter((key) => key.startsWith(prefix))
      .map((key) => relative(withoutSlotGroup(key).slice(prefix.length)));
    return { cursor: next, keys };
  }

  /**
   * What this instance's L1 and Redis hold under `key` (`namespace:key`); 404
   * when neither holds an entry, 503 when L1 does not and Redis could not be asked.
   */
  async detail(key: string) {
    const inspection = await this.inspect(key);
    const { l1, l2 } = inspection;
    return {
      ...relative(key),
      l1: l1 && {
        expiresAt: new Date(l1.expiresAt).toISOString(),
        graceUntil: new Date(l1.graceUntil).toISOString(),
        tags: l1.tags,
        value: shown(l1.value),
      },
      l2: l2 && describeL2(l2),
    };
  }

  /**
   * Deletes the entry on every instance (L1 through the bus, Redis with a
   * tombstone); 404 when there is none, 503 when only Redis could tell.
   */
  async delete(key: string): Promise<void> {
    await this.inspect(key);
    const { namespace } = relative(key);
    await this.cache.namespace(namespace).delete(key.slice(namespace.length + 1));
  }

  private async inspect(key: string): Promise<EntryInspection> {
    if (!key.includes(':')) throw new NotFoundException('No such key');
    const { namespace } = relative(key);
    const inspection = await this.guarded(() =>
      this.cache.inspect(this.cache.redisKey(namespace, key.slice(namespace.length + 1))),
    );
    const { l1, l2 } = inspection;
    if (l1) return inspection;
    // Not knowing is no 404: the key may be in Redis, and a delete answered "no such key" would leave it there.
    if (l2?.state === 'unavailable') throw new ServiceUnavailableException(`Redis is unavailable (${l2.reason})`);
    if (l2?.state !== 'entry' && l2?.state !== 'foreign') throw new NotFoundException('No such key');
    return inspection;
  }

  private onRedis<R>(call: () => Promise<R>): Promise<R> {
    if (!this.redis?.enabled) throw new ServiceUnavailableException('Key browsing needs Redis, and none is configured');
    return this.guarded(() => this.cache.runOnRedis(call));
  }

  /**
   * A 503 when Redis could not be asked: the breaker is open, or the call
   * missed its deadline or lost its connection before the breaker opened.
   * An error reply is not one (Redis answered: the input should have been
   * refused before, as a SCAN cursor out of range is, or it is a bug).
   */
  private async guarded<R>(call: () => Promise<R>): Promise<R> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof CacheUnavailableError)
        throw new ServiceUnavailableException('Redis is unavailable (cache breaker open)', { cause: error });
      if (isConnectionFailure(error)) throw new ServiceUnavailableException('Redis is unavailable', { cause: error });
      throw error;
    }
  }
}

/** A cluster cursor: the master's index (its first two digits, minus 10) and that master's own cursor. */
function splitCursor(cursor: string): [number, string] {
  if (cursor.length < 3) return [Number.MAX_SAFE_INTEGER, '0'];
  return [Number(cursor.slice(0, 2)) - 10, cursor.slice(2)];
}

function relative(key: string): BrowsedKey {
  const colon = key.indexOf(':');
  return { key, namespace: colon < 0 ? key : key.slice(0, colon) };
}

function describeL2(l2: NonNullable<EntryInspection['l2']>) {
  if (l2.state !== 'entry') return l2;
  const { payload, created, expires, graceUntil, ...rest } = l2;
  return {
    ...rest,
    created: new Date(created).toISOString(),
    expires: new Date(expires).toISOString(),
    graceUntil: new Date(graceUntil).toISOString(),
    value: shown(payload),
  };
}
