import { Logger } from '@nestjs/common';
import type { ChannelInvalidation, ChannelListener, InvalidationChannel } from '@app/cache';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** The part of a node-postgres client the channel uses. */
export interface ListenClient {
  query(text: string, values?: unknown[]): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/** A dedicated connection and how to give it back (`release(error)` destroys it). */
export interface ListenConnection {
  client: ListenClient;
  release(error?: Error | boolean): void;
}

export interface PostgresChannelOptions {
  /** Opens the dedicated connection (LISTEN needs one of its own). */
  connect: () => Promise<ListenConnection>;
  /** Deadline of a barrier or a NOTIFY; a miss ends the connection (then reconnected). @default 1000 */
  timeoutMs?: number;
  /** First reconnect delay, doubled up to 10× after each failure. @default 500 */
  reconnectDelayMs?: number;
}

/** Postgres refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7_900;
/** Above this many NOTIFYs for one invalidation, one "drop everything" is cheaper for every receiver. */
const MAX_CHUNKS = 16;
/** Above this many merged invalidations a payload carries no ids (and is always applied): ids must not crowd out keys. */
const MAX_IDS = 32;

interface WirePayload {
  /** Origin instance. */
  o: string;
  k?: readonly string[];
  t?: readonly string[];
  /** Drop everything. */
  a?: 1;
  /** The sender cannot reach Redis (`ChannelInvalidation.degraded`). */
  d?: 1;
  /** Ids of the invalidations merged in this payload (`ChannelInvalidation.ids`). */
  n?: readonly string[];
}

/**
 * The cache's second invalidation channel on Postgres `LISTEN`/`NOTIFY`
 * (see `InvalidationChannel`), the database every instance already shares.
 *
 * - `publish` runs `pg_notify` on the channel's own connection; Postgres
 *   delivers it, in commit order, to every session listening on the channel.
 *   An invalidation larger than a NOTIFY payload goes in several; beyond
 *   `MAX_CHUNKS` it becomes one "drop all of L1".
 * - `barrier` is a `SELECT 1` on the listening connection. A committing
 *   session signals every listener before its client sees the commit, and a
 *   listening backend sends pending notifications before it answers the next
 *   query on that connection: when the `SELECT 1` returns, every
 *   notification committed before it was sent has been received (node-postgres
 *   emits `notification` as it parses the stream, ahead of the query's reply).
 *   Concurrent barriers share one round trip; a caller never shares one that
 *   was already on the wire when it arrived.
 * - A dropped connection (or a missed barrier deadline) is ended and
 *   reconnected with backoff; once listening again the cache is told
 *   (`resumed`), since messages of the gap are lost.
 */
export class PostgresInvalidationChannel implements InvalidationChannel {
  private readonly logger = new Logger('InvalidationChannel');
  private readonly instanceId = randomUUID();
  private readonly timeoutMs: number;
  private readonly reconnectDelayMs: number;
  private listener?: ChannelListener;
  private connection?: ListenConnection;
  private reconnectTimer?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;
  private everListened = false;
  private inFlight?: Promise<void>;
  private queued?: Promise<void>;
  /** The invalidations waiting for the NOTIFY in flight (`sending`) to finish. */
  private batch?: Batch;
  private sending?: Promise<void>;

  constructor(private readonly options: PostgresChannelOptions) {
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.reconnectDelayMs = options.reconnectDelayMs ?? 500;
  }

  /**
   * The channel on a TypeORM data source's node-postgres pool; undefined for
   * a data source that is not node-postgres (embedded PGlite: one process,
   * so no other instance to tell).
   */
  static forDataSource(
    dataSource: DataSource,
    options: Omit<PostgresChannelOptions, 'connect'> = {},
  ): PostgresInvalidationChannel | undefined {
    const driverOptions = dataSource.options as { type: string; driver?: unknown };
    if (driverOptions.type !== 'postgres' || driverOptions.driver !== undefined) return undefined;
    const pool = (dataSource.driver as unknown as { master?: { connect(): Promise<ListenPoolClient> } }).master;
    if (!pool) return undefined;
    return new PostgresInvalidationChannel({
      ...options,
      connect: async () => {
        const client = await pool.connect();
        return { client, release: (error) => client.release(error) };
      },
    });
  }

  get listening(): boolean {
    return this.connection !== undefined;
  }

  async start(listener: ChannelListener): Promise<void> {
    this.listener = listener;
    await this.open();
  }

  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.close(true);
    return Promise.resolve();
  }

  /**
   * Invalidations published while a NOTIFY is on the wire are merged and
   * sent together once it is answered: one round trip for any number of
   * concurrent writers, in order.
   */
  publish(invalidation: ChannelInvalidation): Promise<void> {
    const batch = this.batch ?? this.nextBatch();
    if (invalidation.all) batch.all = true;
    if (invalidation.degraded) batch.degraded = true;
    if (invalidation.ids?.length) for (const id of invalidation.ids) batch.ids.add(id);
    else if (invalidation.keys.length || invalidation.tags.length) batch.anonymous = true;
    for (const key of invalidation.keys) batch.keys.add(key);
    for (const tag of invalidation.tags) batch.tags.add(tag);
    return batch.sent;
  }

  private nextBatch(): Batch {
    const previous = this.sending ?? Promise.resolve();
    const batch = {
      keys: new Set<string>(),
      tags: new Set<string>(),
      ids: new Set<string>(),
      anonymous: false,
      all: false,
      degraded: false,
    } as Batch;
    batch.sent = previous
      .catch(() => undefined)
      .then(async () => {
        if (this.batch === batch) this.batch = undefined;
        const name = this.listener?.name;
        const payloads = this.payloads({
          keys: [...batch.keys],
          tags: [...batch.tags],
          all: batch.all,
          degraded: batch.degraded,
          // One invalidation without an id makes the whole merge one to apply.
          ids: batch.anonymous ? [] : [...batch.ids],
        });
        for (const payload of payloads) await this.query('NOTIFY', 'SELECT pg_notify($1, $2)', [name, payload]);
      });
    this.sending = batch.sent;
    this.batch = batch;
    return batch;
  }

  barrier(): Promise<void> {
    if (!this.inFlight) {
      this.inFlight = this.roundTrip().finally(() => (this.inFlight = undefined));
      return this.inFlight;
    }
    // A round trip already on the wire may have left before this caller's
    // read began: wait for the next one, shared by every caller meanwhile.
    this.queued ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.barrier();
      });
    return this.queued;
  }

  private roundTrip(): Promise<void> {
    return this.query('barrier', 'SELECT 1');
  }

  /**
   * A query on the listening connection under the deadline: a hung Postgres
   * must not hold a read or a write's response.
   */
  private async query(what: string, text: string, values?: unknown[]): Promise<void> {
    const connection = this.connection;
    if (!connection) throw new Error('invalidation channel is not connected');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} missed its ${this.timeoutMs} ms deadline`)), this.timeoutMs);
    });
    try {
      await Promise.race([connection.client.query(text, values), deadline]);
    } catch (error) {
      // Whatever the connection still holds may include notifications we will
      // never see in time: start over on a new one.
      if (this.connection === connection) this.lost(error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The invalidation as NOTIFY payloads, each under Postgres's limit. */
  private payloads(invalidation: ChannelInvalidation): string[] {
    const d = invalidation.degraded ? ({ d: 1 } as const) : {};
    const all = JSON.stringify({ o: this.instanceId, a: 1, ...d } satisfies WirePayload);
    if (invalidation.all) return [all];
    // Nothing to invalidate, only the sender's state to tell.
    if (invalidation.keys.length === 0 && invalidation.tags.length === 0)
      return invalidation.degraded ? [JSON.stringify({ o: this.instanceId, d: 1 } satisfies WirePayload)] : [];
    const out: string[] = [];
    // Every chunk carries the ids: each is a part of those invalidations, and already applied when they are.
    const ids = invalidation.ids?.length && invalidation.ids.length <= MAX_IDS ? { n: invalidation.ids } : {};
    const room = MAX_PAYLOAD_BYTES - 100 - (ids.n ? Buffer.byteLength(JSON.stringify(ids.n)) : 0);
    let keys: string[] = [];
    let tags: string[] = [];
    let size = 0;
    const flush = () => {
      if (!keys.length && !tags.length) return;
      out.push(JSON.stringify({ o: this.instanceId, k: keys, t: tags, ...d, ...ids } satisfies WirePayload));
      keys = [];
      tags = [];
      size = 0;
    };
    const add = (list: 'k' | 't', item: string): boolean => {
      const bytes = Buffer.byteLength(JSON.stringify(item)) + 1;
      if (bytes > room) return false;
      if (size + bytes > room) flush();
      (list === 'k' ? keys : tags).push(item);
      size += bytes;
      return true;
    };
    for (const key of invalidation.keys) if (!add('k', key)) return [all];
    for (const tag of invalidation.tags) if (!add('t', tag)) return [all];
    flush();
    return out.length > MAX_CHUNKS ? [all] : out;
  }

  private receive(payload: string | undefined): void {
    let message: WirePayload;
    try {
      message = JSON.parse(payload ?? '') as WirePayload;
    } catch {
      this.logger.warn('ignored a malformed invalidation notification');
      return;
    }
    if (message.o === this.instanceId || !this.listener) return;
    const degraded = message.d === 1 ? { degraded: true } : {};
    if (message.a) return this.listener.message({ keys: [], tags: [], all: true, ...degraded });
    const strings = (list: unknown) => (Array.isArray(list) ? list.filter((x) => typeof x === 'string') : []);
    const ids = message.n ? { ids: strings(message.n) } : {};
    this.listener.message({ keys: strings(message.k), tags: strings(message.t), ...ids, ...degraded });
  }

  private async open(): Promise<void> {
    if (this.stopped || !this.listener) return;
    let connection: ListenConnection | undefined;
    try {
      connection = await this.options.connect();
      const { client } = connection;
      const name = this.listener.name;
      client.on('notification', (message) => {
        if (message.channel === name) this.receive(message.payload);
      });
      client.on('error', (error) => this.lost(error));
      client.on('end', () => this.lost(new Error('connection ended')));
      await client.query(`LISTEN "${name.replace(/"/g, '""')}"`);
    } catch (error) {
      connection?.client.removeAllListeners();
      connection?.release(true);
      this.failures++;
      this.logger.warn(`invalidation channel could not listen: ${String(error)}`);
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) {
      connection.client.removeAllListeners();
      connection.release(true);
      return;
    }
    this.connection = connection;
    this.failures = 0;
    if (this.everListened) {
      this.logger.log('invalidation channel listening again');
      this.listener.resumed();
    }
    this.everListened = true;
  }

  private lost(error: unknown): void {
    if (!this.connection) return;
    this.logger.warn(`invalidation channel connection lost: ${String(error)}`);
    this.close(error instanceof Error ? error : true);
    this.scheduleReconnect();
  }

  private close(reason: Error | boolean): void {
    const connection = this.connection;
    this.connection = undefined;
    if (!connection) return;
    // Never back into the pool: the session is LISTENing. An error listener
    // stays so a late socket error cannot crash the process.
    connection.client.removeAllListeners();
    connection.client.on('error', () => undefined);
    connection.release(reason);
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = this.reconnectDelayMs * Math.min(10, 2 ** Math.min(this.failures, 4));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.open();
    }, delay);
    this.reconnectTimer.unref();
  }
}

/** Invalidations merged into one send. */
interface Batch {
  keys: Set<string>;
  tags: Set<string>;
  /** Ids of the merged invalidations (`ChannelInvalidation.ids`). */
  ids: Set<string>;
  /** One of them had no id: the merge must always be applied. */
  anonymous: boolean;
  all: boolean;
  degraded: boolean;
  sent: Promise<void>;
}

/** node-postgres's pooled client, as far as the channel needs it. */
interface ListenPoolClient extends ListenClient {
  release(error?: Error | boolean): void;
}
