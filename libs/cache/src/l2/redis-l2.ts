import type { RedisConnection } from '@app/redis';
import { createHash } from 'node:crypto';
import type { KeyLayout } from '../keys';
import { parseEnvelope, type Envelope } from './envelope';
import {
  DELETE_SCRIPT,
  GET_SCRIPT,
  INVALIDATE_TAGS_SCRIPT,
  RELEASE_LOCK_SCRIPT,
  RENEW_LOCK_SCRIPT,
  SET_SCRIPT,
} from './lua-scripts';

/** What an L2 read returns: the entry (if any, and valid) and Redis's clock. */
export interface L2Read {
  entry?: Envelope;
  /** Server time of the read, in ms. */
  now: number;
}

/** One write to L2. */
export interface L2Write {
  key: string;
  ttlMs: number;
  graceMs: number;
  schema: string;
  tags: readonly string[];
  payload: string;
  /** Server time at which the writer's read missed; 0 skips the late-write check. */
  notBefore: number;
}

interface Script {
  source: string;
  sha: string;
}

const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });
const SCRIPTS = {
  get: script(GET_SCRIPT),
  set: script(SET_SCRIPT),
  del: script(DELETE_SCRIPT),
  tags: script(INVALIDATE_TAGS_SCRIPT),
  renew: script(RENEW_LOCK_SCRIPT),
  release: script(RELEASE_LOCK_SCRIPT),
};

/**
 * The Redis tier. Every call goes through `RedisConnection.run` (deadline),
 * and each operation is one Lua script, one round trip: reads check the
 * entry's tags against their invalidation markers on the server.
 */
export class RedisL2 {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
    private readonly markerTtlMs: number,
    private readonly tombstoneMs: number,
  ) {}

  async get(key: string): Promise<L2Read> {
    const [raw, newestMark, now] = (await this.eval(SCRIPTS.get, [key], [this.keys.tagPrefix])) as [
      string,
      number,
      number,
    ];
    if (raw === '') return { now };
    const entry = parseEnvelope(raw);
    // An entry created at or before an invalidation of one of its tags is gone.
    if (!entry || newestMark >= entry.created) return { now };
    return { entry, now };
  }

  /** Stores the entry; false when refused because it was invalidated while loading. */
  async set(write: L2Write): Promise<boolean> {
    const created = await this.eval(
      SCRIPTS.set,
      [write.key],
      [
        this.keys.tagPrefix,
        String(Math.max(1, Math.round(write.ttlMs))),
        String(Math.max(0, Math.round(write.graceMs))),
        write.schema,
        write.tags.join(','),
        write.payload,
        String(write.notBefore),
      ],
    );
    return Number(created) > 0;
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.eval(SCRIPTS.del, keys, [String(this.tombstoneMs)]);
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    await this.eval(
      SCRIPTS.tags,
      tags.map((t) => this.keys.tagPrefix + t),
      [String(this.markerTtlMs)],
    );
  }

  /** SET NX PX: true when this caller now holds the lease. */
  async acquireLock(key: string, token: string, leaseMs: number): Promise<boolean> {
    const reply = await this.redis.run((c) =>
      c.set(key, token, { condition: 'NX', expiration: { type: 'PX', value: leaseMs } }),
    );
    return reply === 'OK';
  }

  async renewLock(key: string, token: string, leaseMs: number): Promise<boolean> {
    return Number(await this.eval(SCRIPTS.renew, [key], [token, String(leaseMs)])) === 1;
  }

  async releaseLock(key: string, token: string): Promise<void> {
    await this.eval(SCRIPTS.release, [key], [token]);
  }

  /** EVALSHA, falling back to EVAL when Redis lost its script cache (restart, SCRIPT FLUSH). */
  private eval(s: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const options = { keys: [...keys], arguments: [...args] };
    return this.redis.run(async (client) => {
      try {
        return await client.evalSha(s.sha, options);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return client.eval(s.source, options);
        throw error;
      }
    });
  }
}
