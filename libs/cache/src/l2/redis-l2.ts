import { redisScript, sendRaw, type RedisConnection } from '@app/redis';
import { formatEnvelope, parseEnvelope, type Envelope } from './envelope';
import { MarkerReadBatch, type MarkerReply } from './marker-read-batch';
import { ServerClock } from './server-clock';
import {
  DELETE_SCRIPT,
  GET_MANY_SCRIPT,
  GET_SCRIPT,
  INVALIDATE_TAGS_SCRIPT,
  SET_MANY_SCRIPT,
  SET_SCRIPT,
} from './lua-scripts';

/** What an L2 read returns: the entry (if any, and valid) and Redis's clock. */
export interface L2Read {
  entry?: Envelope;
  /** Server time of the read, in ms (measured, or estimated from a recent measurement). */
  now: number;
  /**
   * A server time no later than the moment the read ran: every invalidation
   * after the read carries a stamp at or above it (the late-write guard).
   */
  notBefore: number;
  /** True when the key held nothing at all (no entry, no tombstone) when the read ran. */
  absent?: boolean;
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
  /** The read at `notBefore` found the key absent: a plain `SET NX` can guard the write (see `setIfAbsent`). */
  absent?: boolean;
}

/** What a write carries from the read it follows, to refuse being late. */
export type WriteGuard = Pick<L2Write, 'notBefore' | 'absent'>;

/** The Redis tier as the engine uses it: `RedisL2` on one node, `SlotGroupedL2` on a cluster. */
export interface L2Store {
  get(key: string, tags?: readonly string[]): Promise<L2Read>;
  getScripted(key: string): Promise<L2Read>;
  getMany(keys: readonly string[]): Promise<L2Read[]>;
  set(write: L2Write): Promise<boolean>;
  setMany(writes: readonly L2Write[]): Promise<number>;
  setIfAbsent(write: L2Write): Promise<boolean>;
  delete(keys: readonly string[]): Promise<void>;
  invalidateTags(tags: readonly string[]): Promise<void>;
  /** Redis's clock now (ms), estimated from the last reply that carried it; undefined before any. */
  serverNow(): number | undefined;
}

/**
 * How long a server time seen in a script reply is trusted for estimates; past
 * it, the next read runs the script (which returns the time again).
 */
const CLOCK_MAX_AGE_MS = 1_000;

const SCRIPTS = {
  get: redisScript(GET_SCRIPT),
  getMany: redisScript(GET_MANY_SCRIPT),
  set: redisScript(SET_SCRIPT),
  setMany: redisScript(SET_MANY_SCRIPT),
  del: redisScript(DELETE_SCRIPT),
  tags: redisScript(INVALIDATE_TAGS_SCRIPT),
};

/**
 * The Redis tier. Every call goes through `RedisConnection.run` (deadline),
 * and each operation is one Lua script, one round trip: reads check the
 * entry's tags against their invalidation markers on the server.
 *
 * It serves the keys whose tags' markers are under `markerPrefix`, with one
 * clock: every key on one node, or one slot group of a cluster (see
 * `SlotGroupedL2`), whose keys and markers share a slot and a master, so a
 * multi-key command or script of it is valid there. Commands are routed by
 * their first key.
 */
export class RedisL2 implements L2Store {
  private readonly clock = new ServerClock(CLOCK_MAX_AGE_MS);
  /** The reads of one event-loop turn share one MGET (see `MarkerReadBatch`). */
  private readonly batch: MarkerReadBatch;

  /**
   * @param markerPrefix the prefix that turns a tag into its marker's key
   *   (`KeyLayout.tagPrefix`, or a slot group's `markerPrefixOf`)
   */
  constructor(
    private readonly redis: RedisConnection,
    private readonly markerPrefix: string,
    private readonly markerTtlMs: number,
    private readonly tombstoneMs: number,
  ) {
    this.batch = new MarkerReadBatch(
      // The MGET's first key is an entry's: on a cluster, that routes it to the group's master.
      (command) => this.redis.command<Array<string | null>>(command, command[1]),
      markerPrefix,
      () => this.clock.now(),
    );
  }

  /** Redis's clock now (ms), estimated from the last reply that carried it; undefined before any. */
  serverNow(): number | undefined {
    return this.clock.observed ? this.clock.now() : undefined;
  }

  /**
   * Reads an entry and checks its tags against their invalidation markers in
   * one atomic round trip. With `tags` (the tags the caller's entries carry)
   * and a recent server time to estimate from, that is one `MGET` of the
   * entry and those markers: no script runs on Redis, which costs it several
   * times a `GET`. When the entry carries a tag outside `tags`, or without
   * `tags`, the read script does it (server-side lookup of the entry's own tags).
   */
  async get(key: string, tags?: readonly string[]): Promise<L2Read> {
    if (tags && this.clock.fresh) {
      const read = this.checkMarkers(await this.batch.read(key, tags), tags);
      if (read) return read;
    }
    return this.getScripted(key);
  }

  /**
   * The `MGET` reply judged as the read script would; undefined when the
   * script must decide (an entry tag the read did not name, or a miss whose
   * write guard the estimate cannot set exactly).
   */
  private checkMarkers({ raw, marks, sentAt }: MarkerReply, tags: readonly string[]): L2Read | undefined {
    const now = this.clock.now();
    // The MGET ran after it was sent, and the estimate never runs ahead of
    // Redis; 1 ms more covers clock drift since the last measurement.
    const notBefore = Math.floor(sentAt) - 1;
    // Tombstones (`x|…`) and foreign values do not parse: misses.
    const entry = raw === null ? undefined : parseEnvelope(raw);
    if (entry) {
      let newest = 0;
      for (const tag of entry.tags) {
        const at = tags.indexOf(tag);
        if (at < 0) return undefined;
        const mark = Number(marks[at] ?? 0);
        if (mark > newest) newest = mark;
      }
      // An entry created after every invalidation of its tags is valid.
      if (newest < entry.created) return { entry, now, notBefore };
    }
    // A miss is followed by a write that refuses stamps at or above
    // `notBefore`. A stamp seen here predates the read; if the estimate put
    // it at or above, the write would be refused for nothing: ask the script,
    // which reads Redis's clock exactly.
    let seen = entry ? entry.created : raw?.startsWith('x|') ? Number(raw.slice(2)) : 0;
    for (const mark of marks) seen = Math.max(seen, Number(mark ?? 0));
    if (!(seen < notBefore)) return undefined;
    return raw === null ? { now, notBefore, absent: true } : { now, notBefore };
  }

  async getScripted(key: string): Promise<L2Read> {
    const [raw, newestMark, now] = await this.redis.script<[string, number, number]>(
      SCRIPTS.get,
      [key],
      [this.markerPrefix],
    );
    this.clock.observe(now);
    return scriptedRead(raw, newestMark, now);
  }

  /** Reads several entries (in key order) in one script call: one round trip, whatever the count. */
  async getMany(keys: readonly string[]): Promise<L2Read[]> {
    if (keys.length === 0) return [];
    const reply = await this.redis.script<Array<string | number>>(SCRIPTS.getMany, keys, [this.markerPrefix]);
    const now = Number(reply[0]);
    this.clock.observe(now);
    return keys.map((_, i) => scriptedRead(String(reply[1 + 2 * i]), Number(reply[2 + 2 * i]), now));
  }

  /** Stores the entry; false when refused because it was invalidated while loading. */
  async set(write: L2Write): Promise<boolean> {
    if (write.absent && write.notBefore > 0 && this.clock.fresh) return this.setIfAbsent(write);
    const created = await this.redis.script(
      SCRIPTS.set,
      [write.key],
      [
        this.markerPrefix,
        String(Math.max(1, Math.round(write.ttlMs))),
        String(Math.max(0, Math.round(write.graceMs))),
        write.schema,
        write.tags.join(','),
        write.payload,
        String(write.notBefore),
      ],
    );
    this.clock.observe(Number(created));
    return Number(created) > 0;
  }

  /**
   * Stores entries unguarded (`set`, `mset`: no read to be late after) in one
   * atomic script call: one round trip, and either every entry is written or
   * none is. Returns the number of entries written.
   */
  async setMany(writes: readonly L2Write[]): Promise<number> {
    if (writes.length === 0) return 0;
    const args: string[] = [];
    for (const w of writes) {
      args.push(
        String(Math.max(1, Math.round(w.ttlMs))),
        String(Math.max(0, Math.round(w.graceMs))),
        w.schema,
        w.tags.join(','),
        w.payload,
      );
    }
    const created = await this.redis.script(
      SCRIPTS.setMany,
      writes.map((w) => w.key),
      args,
    );
    this.clock.observe(Number(created));
    return writes.length;
  }

  /**
   * The write after a read that found the key absent, without a script
   * (which costs Redis several times a plain SET for a kilobyte value):
   * - `SET … NX` fails if anything (an entry, a delete's tombstone) was
   *   written to the key since the read;
   * - the entry is stamped with the read's time rather than the write's, so
   *   a tag invalidated after the read (marker at or above the stamp) makes
   *   it a miss for every reader, as the script would have refused it;
   * - the markers, read in the same round trip, tell the caller whether
   *   that happened (then false: its L1 must not get the value either).
   */
  async setIfAbsent(write: L2Write): Promise<boolean> {
    const ttl = Math.max(1, Math.round(write.ttlMs));
    const grace = Math.max(0, Math.round(write.graceMs));
    const expires = Math.floor(this.clock.now()) + ttl;
    const envelope = formatEnvelope({
      created: write.notBefore,
      expires,
      graceUntil: expires + grace,
      schema: write.schema,
      tags: [...write.tags],
      payload: write.payload,
    });
    const markers = ['MGET'];
    for (const tag of write.tags) markers.push(this.markerPrefix + tag);
    // On a cluster the markers are in the entry's slot: both go to its master.
    const [stored, marks] = await this.redis.run((c) =>
      Promise.all([
        sendRaw<string | null>(c, ['SET', write.key, envelope, 'PX', String(ttl + grace), 'NX'], write.key),
        sendRaw<Array<string | null>>(c, markers, write.key),
      ]),
    );
    return stored === 'OK' && marks.every((mark) => mark === null || Number(mark) < write.notBefore);
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.redis.script(SCRIPTS.del, keys, [String(this.tombstoneMs)]);
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    await this.redis.script(
      SCRIPTS.tags,
      tags.map((t) => this.markerPrefix + t),
      [String(this.markerTtlMs)],
    );
  }
}

/** A read script's answer for one key judged: an entry created at or before an invalidation of one of its tags is gone. */
function scriptedRead(raw: string, newestMark: number, now: number): L2Read {
  if (raw === '') return { now, notBefore: now };
  const entry = parseEnvelope(raw);
  if (!entry || newestMark >= entry.created) return { now, notBefore: now };
  return { entry, now, notBefore: now };
}
