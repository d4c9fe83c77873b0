import type { Serializer } from './serialization/serializer';

/** An entry in L1: the decoded value and local-clock deadlines. */
export interface L1Entry {
  value: unknown;
  /** Local time after which the entry is stale. */
  expiresAt: number;
  /** Local time after which even a failing loader may not use it. */
  graceUntil: number;
  tags: readonly string[];
  /** The TTL the entry was stored with (for refresh-ahead). */
  ttlMs: number;
}

/**
 * The L1 copy of an entry read from L2, kept as the text it was read as
 * until an L1 hit first asks for its value. The L2 read decodes a value of
 * its own for its caller, which dies young; keeping that decoded value
 * instead would have the collector copy, promote and trace its whole object
 * graph for every entry copied into L1, most of which (a key read once, the
 * window of W-TinyLFU) are never hit there. The text is one flat string.
 * The first L1 hit decodes it (the same text decoded once already, so it
 * decodes again) and keeps the value from then on, as any other entry.
 */
export class EncodedL1Entry implements L1Entry {
  private text: string | undefined;
  private decoded: unknown;

  constructor(
    text: string,
    private readonly serializer: Pick<Serializer, 'decode'>,
    public expiresAt: number,
    public graceUntil: number,
    public readonly tags: readonly string[],
    public readonly ttlMs: number,
  ) {
    this.text = text;
  }

  get value(): unknown {
    if (this.text !== undefined) {
      this.decoded = this.serializer.decode(this.text);
      this.text = undefined;
    }
    return this.decoded;
  }

  set value(value: unknown) {
    this.decoded = value;
    this.text = undefined;
  }
}

/** Per-call options of `set` and `getOrSet`. */
export interface SetOptions<T = unknown> {
  /** Time to live in ms, or a function of the value. @default the module's `defaultTtlMs` */
  ttl?: number | ((value: T) => number);
  /**
   * The TTL's random reduction for this entry (0..1), instead of the
   * module's `ttlJitter`; 0 when the caller must know when the entry expires.
   */
  jitter?: number;
  /** Grace window after expiry in ms (stale-if-error). @default the module's `defaultGraceMs` */
  grace?: number;
  /**
   * Tags to invalidate the entry by, or a function of the value (the tags of
   * a value known only once it is built, such as an HTTP response's
   * dependencies). With a function, a `getOrSet` miss reads L2 with the
   * script that checks the entry's own tags, not the one-`MGET` fast path.
   */
  tags?: readonly string[] | ((value: T) => readonly string[]);
}

/** Options of `getOrSet`. */
export interface GetOrSetOptions<T = unknown> extends SetOptions<T> {
  /**
   * Make one instance load while the others wait (Redis lease), instead of
   * one load per instance.
   * @default false
   */
  lockAcrossInstances?: boolean;
  /**
   * With `lockAcrossInstances`: how long a call waits for another instance's
   * load before loading itself (a loader slower than this is run twice; the
   * lease is renewed while its holder loads). @default the module's `lockWaitMs`
   */
  lockWaitMs?: number;
  /**
   * Refresh-ahead: when a hit finds less than this fraction of the TTL left,
   * the value is returned at once and reloaded in the background (one
   * reload per key), so hot keys do not expire under traffic. 0 disables it.
   * @default 0
   */
  refreshAhead?: number;
  /**
   * Whether a loaded value may be stored. A value it refuses is returned to
   * the caller (and to the calls waiting on the same load) without being
   * cached. @default every value is stored
   */
  cacheable?: (value: T) => boolean;
}
