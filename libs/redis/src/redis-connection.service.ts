import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createClient, createCluster, createSentinel, type RedisClientType } from '@redis/client';
import { EventEmitter } from 'node:events';
import { BackgroundScope } from './background-scope';
import { CLOSE_TIMEOUT_MS } from './redis.constants';
import { withDeadline } from './deadline';
import { isErrorReply, sendRaw, sendScript, type RedisScript } from './raw-command';
import { RedisNotConfiguredError, RedisUnavailableError } from './redis.errors';
import { REDIS_OPTIONS_TOKEN } from './redis.module-definition';
import { resolveRedisOptions, type RedisModuleOptions, type ResolvedRedisOptions } from './redis.options';
import { describeConnectionFailure, describeError } from './connection-failure';
import { hasPassword, redactRedisUrl, redactSecrets } from './redis-url';
import { reconnectDelay } from './reconnect-strategy';
import { describeSentinel, SentinelHandle, sentinelsNameMaster, type SentinelLike } from './sentinel-client';
import { describeCluster, mergeClusterInfo, type RedisClusterClient } from './cluster-client';

/** The node-redis v5 client type used across the app (and accepted by `@keyv/redis`). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the defaults createClient() infers
export type RedisClient = RedisClientType<{}, {}, {}, 2, {}>;

/**
 * What `RedisConnection.client` is: one node's client (a URL, or Sentinel's
 * master), or the cluster client. Their commands have the same shape;
 * `sendCommand`, `scan`, `info` and pub/sub do not, so those go through
 * `RedisConnection` (`command`, `nodes`, `publish`, `subscribe`).
 */
export type RedisCommander = RedisClient | RedisClusterClient;

/** A pub/sub message listener. */
export type RedisMessageListener = (message: string, channel: string) => void;

/** Connection state transitions of the command client. */
export type RedisConnectionEvent = 'ready' | 'down';

/**
 * Owns the app's Redis connections: one command client, shared by every
 * library (the cache hands it to `@keyv/redis`), and one subscriber for
 * pub/sub. Nothing is queued while the socket is down, and calls made through
 * `run` carry a deadline, so a dead or paused Redis never makes a caller wait
 * longer than `commandTimeoutMs`.
 *
 * With `sentinel` options, one node-redis Sentinel client is both: it sends
 * commands to the master the sentinels name and keeps its pub/sub on it,
 * following a failover. A lost master or a master change is a `down`; once a
 * `PING` answers on the (new) master, `ready`.
 *
 * With `cluster` options, the cluster client is both too. A node that stops
 * answering is a `down` for the whole connection: the cache's L2 is
 * bypassed as a whole, not only that node's slots (one breaker, and a tag
 * invalidation writes a marker on every master; see `KeyLayout`). Until every master answers
 * a `PING`, the slot map is asked for again (a replica may have taken over),
 * then the channels are subscribed again and it is `ready`. A channel whose
 * slot moves to another master (a resharding) is a `down` too, until it is
 * subscribed on its new master: messages published meanwhile were lost.
 */
@Injectable()
export class RedisConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnection.name);
  private readonly options: ResolvedRedisOptions;
  private readonly events = new EventEmitter();
  private commandClient?: RedisCommander;
  private subscriberClient?: RedisCommander;
  /** The cluster client, when `cluster` is configured (it is `commandClient` and `subscriberClient`). */
  private cluster?: RedisClusterClient;
  /** Cluster mode: why the last slot-map read failed (a root node answered, but not as a cluster node, say). */
  private discoveryError?: Error;
  /** Cluster mode: channels subscribed through `subscribe`, subscribed again after a failover. */
  private readonly channels = new Map<string, RedisMessageListener>();
  /** Cluster mode: the sharded pub/sub clients told to report a moved channel (see `watchChannelMoves`). */
  private readonly watchedSubscribers = new WeakSet<object>();
  /** Cluster mode: a channel's slot moved, so the slot map is read again before the channels are subscribed again. */
  private slotMapStale = false;
  private wasReady = false;
  private subscriberWasReady = false;
  private firstAttempt: Promise<boolean> = Promise.resolve(false);
  /** The error that ended the first connection attempt (none when its deadline passed). */
  private firstError?: Error;
  /** Consecutive failed calls (see `breakerThreshold`). */
  private failures = 0;
  /** The shared breaker is open: `available` is false until a probe `PING` answers. */
  private tripped = false;
  private probe?: NodeJS.Timeout;
  /** Breaker transitions and the probe run here, never as the request whose call tripped the breaker. */
  private readonly background = new BackgroundScope('RedisConnection.breaker');
  /** The Sentinel client, when `sentinel` is configured (its `client` is `commandClient` and `subscriberClient`). */
  private sentinel?: SentinelHandle;
  private closed = false;
  /** Sentinel and cluster modes: pings the master(s) after a `down` until they answer (then `ready`). */
  private sentinelWatch?: NodeJS.Timeout;

  constructor(@Inject(REDIS_OPTIONS_TOKEN) options: RedisModuleOptions) {
    this.options = resolveRedisOptions(options);
    // Created and connecting from here, so that other providers' factories
    // can hand the client to libraries such as @keyv/redis, and their init
    // hooks can await the first attempt whatever order Nest runs hooks in.
    if (this.options.cluster) {
      this.cluster = this.createCluster();
      this.commandClient = this.subscriberClient = this.cluster;
      this.firstAttempt = this.connectCluster();
    } else if (this.options.sentinel) {
      this.sentinel = new SentinelHandle(this.createSentinel());
      this.commandClient = this.subscriberClient = this.sentinel.client;
      this.firstAttempt = this.connectSentinel();
    } else if (this.options.url) {
      this.commandClient = this.createClient(this.options.url, this.options.clientName, true);
      this.subscriberClient = this.createClient(this.options.url, `${this.options.clientName}-sub`, false);
      this.firstAttempt = this.connect();
    }
  }

  /** Resolves once the first connection attempt ends: true when Redis answered. */
  whenFirstAttemptDone(): Promise<boolean> {
    return this.firstAttempt;
  }

  /** True when a URL, sentinels or cluster nodes are configured (whether or not Redis answers right now). */
  get enabled(): boolean {
    return this.options.url !== undefined || this.options.sentinel !== undefined || this.options.cluster !== undefined;
  }

  /** True with `cluster` options: keys a script or a multi-key command touches together must share a slot. */
  get isCluster(): boolean {
    return this.cluster !== undefined;
  }

  /** The URL without credentials (or the sentinels and master name, or the cluster nodes), for logs and status pages. */
  get target(): string | undefined {
    if (this.options.cluster) return describeCluster(this.options.cluster);
    if (this.options.sentinel) return describeSentinel(this.options.sentinel);
    return this.options.url && redactRedisUrl(this.options.url);
  }

  /** Per-command deadline in milliseconds. */
  get commandTimeoutMs(): number {
    return this.options.commandTimeoutMs;
  }

  /** The command client. Throws `RedisNotConfiguredError` when no URL is set. */
  get client(): RedisCommander {
    if (!this.commandClient) throw new RedisNotConfiguredError();
    return this.commandClient;
  }

  /** True while the command client's socket is connected and handshaken (Sentinel: the master answers; cluster: every master). */
  get isReady(): boolean {
    if (this.sentinel || this.cluster) return this.wasReady;
    return (this.commandClient as RedisClient | undefined)?.isReady ?? false;
  }

  /**
   * True when a call is worth sending: the socket is up and the last
   * `breakerThreshold` calls did not all fail. One view of Redis's health for
   * every library on this connection: while it is false, callers that have a
   * fallback (rate limits, the cache) use it at once instead of waiting out a
   * deadline. A background `PING` makes it true again.
   */
  get available(): boolean {
    return !this.tripped && this.isReady;
  }

  /** True while the subscriber connection is up (pub/sub messages can arrive). */
  get subscriberReady(): boolean {
    if (this.sentinel || this.cluster) return this.subscriberWasReady;
    return (this.subscriberClient as RedisClient | undefined)?.isReady ?? false;
  }

  /**
   * Subscribes to connection transitions: `down` when either connection (the
   * command client or the subscriber) is lost, `ready` when one is back.
   * Returns the unsubscribe function.
   */
  onStateChange(listener: (event: RedisConnectionEvent) => void): () => void {
    const handlers = { ready: () => listener('ready'), down: () => listener('down') };
    this.events.on('ready', handlers.ready).on('down', handlers.down);
    return () => this.events.off('ready', handlers.ready).off('down', handlers.down);
  }

  /**
   * Runs `operation` against the command client under the command deadline
   * (`RedisTimeoutError` past it). Every caller that must not hang on a
   * paused or partitioned Redis goes through here.
   */
  run<T>(operation: (client: RedisCommander) => Promise<T>, timeoutMs = this.options.commandTimeoutMs): Promise<T> {
    return withDeadline(operation(this.client), timeoutMs).then(
      (value) => {
        this.failures = 0;
        return value;
      },
      (error: unknown) => {
        this.noteFailure(error);
        throw error;
      },
    );
  }

  /**
   * One raw command under the deadline (as `run`). `key` is the first key
   * it touches: a cluster sends the command to that key's master (without
   * one, to any master). Single-node clients ignore it.
   */
  command<T = unknown>(args: readonly string[], key?: string): Promise<T> {
    return this.run((client) => sendRaw<T>(client, args, key));
  }

  /** A Lua script under the deadline (as `run`), routed by `keys[0]` (see `sendScript`). */
  script<T = unknown>(script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<T> {
    return this.run((client) => sendScript<T>(client, script, keys, args));
  }

  /**
   * Publishes `message` under the deadline; resolves to the number of
   * subscribers that received it. In a cluster, `SPUBLISH`: a sharded
   * channel lives on its slot's master, so the count covers every
   * subscriber (a cluster-wide `PUBLISH` counts only those of the node that
   * ran it).
   */
  publish(channel: string, message: string): Promise<number> {
    return this.run((client) =>
      this.cluster ? this.cluster.sPublish(channel, message) : client.publish(channel, message),
    );
  }

  /** Subscribes `listener` to `channel` on the pub/sub connection (`SSUBSCRIBE` in a cluster), under the deadline. */
  async subscribe(channel: string, listener: RedisMessageListener): Promise<void> {
    const subscriber = this.subscriberClient;
    if (!subscriber) throw new RedisNotConfiguredError();
    if (this.cluster) {
      this.channels.set(channel, listener);
      await withDeadline(this.cluster.sSubscribe(channel, listener), this.options.commandTimeoutMs, 'SSUBSCRIBE');
      this.watchChannelMoves();
      return;
    }
    await withDeadline(
      (subscriber as RedisClient).subscribe(channel, listener),
      this.options.commandTimeoutMs,
      'SUBSCRIBE',
    );
  }

  /** Unsubscribes from `channels` (every listener), under the deadline. */
  async unsubscribe(channels: readonly string[]): Promise<void> {
    const subscriber = this.subscriberClient;
    if (!subscriber) return;
    if (this.cluster) {
      for (const channel of channels) this.channels.delete(channel);
      // Sharded channels may live on different masters: one SUNSUBSCRIBE each.
      await withDeadline(
        Promise.all(channels.map((channel) => this.cluster!.sUnsubscribe(channel))),
        this.options.commandTimeoutMs,
        'SUNSUBSCRIBE',
      );
      return;
    }
    await withDeadline(
      (subscriber as RedisClient).unsubscribe([...channels]),
      this.options.commandTimeoutMs,
      'UNSUBSCRIBE',
    );
  }

  /**
   * The node clients that hold the data: the one node (URL, Sentinel's
   * master), or every master of a cluster. For per-node commands (`SCAN`,
   * `INFO`, `SLOWLOG`) and health checks.
   */
  async nodes(): Promise<RedisClient[]> {
    if (!this.cluster) return [this.client as RedisClient];
    const cluster = this.cluster;
    return Promise.all(cluster.masters.map((master) => cluster.nodeClient(master) as Promise<RedisClient>));
  }

  /** Round-trip latency of a `PING` in milliseconds (a cluster: the slowest master's); rejects past the deadline. */
  async ping(timeoutMs = this.options.commandTimeoutMs): Promise<number> {
    const started = performance.now();
    if (this.cluster) await this.run(() => this.pingMasters(), timeoutMs);
    else await this.run((client) => (client as RedisClient).ping(), timeoutMs);
    return performance.now() - started;
  }

  /** `INFO [section]` parsed into key/value pairs (a cluster: its masters' merged, see `mergeClusterInfo`). */
  async info(section?: string): Promise<Record<string, string>> {
    const texts = await this.run(async () =>
      Promise.all((await this.nodes()).map((node) => (section ? node.info(section) : node.info()))),
    );
    const infos = texts.map(parseInfo);
    return this.cluster ? mergeClusterInfo(infos) : infos[0];
  }

  async onModuleInit(): Promise<void> {
    if (this.options.cluster) return this.initCluster();
    if (this.options.sentinel) return this.initSentinel();
    const { url } = this.options;
    if (!url) {
      this.logger.log('no Redis URL (REDIS_URL unset, or CACHE_BACKEND=memory): no Redis connection, memory only');
      return;
    }
    if (this.options.warnWithoutPassword && !hasPassword(url)) {
      this.logger.warn(`Redis at ${redactRedisUrl(url)} has no password in its URL: set requirepass in production`);
    }
    await this.afterFirstAttempt(`Redis at ${redactRedisUrl(url)}`);
    if (this.isReady) await this.warnIfClusterNode();
  }

  /** A URL that names one node of a Redis Cluster: most keys live elsewhere (every such call fails with `MOVED`). */
  private async warnIfClusterNode(): Promise<void> {
    const info: Record<string, string> = await this.info('cluster').catch(() => ({}));
    if (info.cluster_enabled === '1') {
      this.logger.warn(
        `Redis at ${this.target} is a Redis Cluster node: list the nodes in REDIS_CLUSTER_NODES instead of REDIS_URL, or calls on keys of other nodes fail`,
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.probe);
    clearInterval(this.sentinelWatch);
    this.probe = this.sentinelWatch = undefined;
    const clients = [...new Set([this.commandClient, this.subscriberClient])].filter((c): c is RedisCommander => !!c);
    this.commandClient = this.subscriberClient = this.cluster = undefined;
    this.events.removeAllListeners();
    await Promise.all(clients.map((client) => closeClient(client)));
  }

  private async initCluster(): Promise<void> {
    if (this.options.warnWithoutPassword && !this.options.cluster!.password) {
      this.logger.warn(`Redis ${this.target} has no password (REDIS_PASSWORD): set requirepass in production`);
    }
    await this.afterFirstAttempt(`Redis ${this.target}`);
  }

  /** Once the first attempt ended: nothing when connected; else the reason, and a boot failure when Redis is required. */
  private async afterFirstAttempt(subject: string): Promise<void> {
    if (await this.firstAttempt) return;
    const failure = describeConnectionFailure(this.firstError, this.options.connectTimeoutMs);
    const message = this.redact(`${subject} ${failure}`);
    if (this.options.required) {
      await this.onApplicationShutdown();
      throw new RedisUnavailableError(`${message}, and CACHE_BACKEND=redis requires it`, { cause: this.firstError });
    }
    this.logger.warn(`${message}: serving without it, retrying`);
  }

  private createCluster(): RedisClusterClient {
    const { nodes, password, username } = this.options.cluster!;
    const cluster = createCluster({
      rootNodes: nodes.map(({ host, port }) => ({ socket: { host, port } })),
      // Reads go to the masters too: a replica may not have a write yet (read-after-write).
      useReplicas: false,
      defaults: {
        name: this.options.clientName,
        password,
        username,
        disableOfflineQueue: true,
        socket: {
          connectTimeout: this.options.connectTimeoutMs,
          keepAlive: true,
          reconnectStrategy: (retries: number) => reconnectDelay(retries, this.options.reconnectMaxDelayMs),
        },
      },
    }) as RedisClusterClient;
    // Discovery failures ('error') and a node's socket errors ('node-error', once per failed attempt).
    cluster.on('error', (error: Error) => {
      // node-redis then rejects `connect` with "All the root nodes are unavailable": this says why.
      if (!this.wasReady) this.discoveryError = error;
      this.onClusterLost(`slot map: ${describeError(error)}`);
    });
    cluster.on('node-error', (error: Error, node: { host: string; port: number }) =>
      this.onClusterLost(`${node.host}:${node.port}: ${describeError(error)}`),
    );
    return cluster;
  }

  /** Resolves true once the slot map is read and every master answered, false past `connectTimeoutMs` (retried in the background). */
  private connectCluster(): Promise<boolean> {
    return this.firstAttemptWithin(() => this.clusterAttempts());
  }

  /**
   * Starts `attempts` (a loop that ends once connected, or shut down) in the
   * background; resolves true when they end connected, false past
   * `connectTimeoutMs` (they go on, and `ready` is emitted when one succeeds).
   */
  private firstAttemptWithin(attempts: () => Promise<void>): Promise<boolean> {
    const running = this.background.run(attempts);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.options.connectTimeoutMs);
      void running.then(() => {
        clearTimeout(timer);
        resolve(this.wasReady);
      });
    });
  }

  private async clusterAttempts(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const cluster = this.cluster!;
        if (!cluster.isOpen) await cluster.connect();
        // A master down at boot: the slot map is read again until its replica took over.
        if (!(await this.checkMasters())) throw new Error('a master of the slot map does not answer');
        this.nodesUp();
        return;
      } catch (error) {
        const failure = this.discoveryError ?? (error instanceof Error ? error : new Error(String(error)));
        this.discoveryError = undefined;
        this.firstError ??= failure;
        this.logger.debug(this.redact(`Redis ${this.target}: ${describeError(failure)}`));
      }
      if (this.closed) return;
      await new Promise((r) => setTimeout(r, reconnectDelay(attempt, this.options.reconnectMaxDelayMs)).unref());
    }
  }

  /** Every master of the slot map answers a `PING` (one that does not rejects). */
  private async pingMasters(): Promise<void> {
    const nodes = await this.nodes();
    if (nodes.length === 0) {
      // No slot map yet: the nodes were never reached, or answered as no cluster does.
      const why = this.firstError ? ` (${this.redact(describeError(this.firstError))})` : '';
      throw new Error(`no slot map: no configured node answered as a cluster node${why}`);
    }
    await Promise.all(nodes.map((node) => node.ping()));
  }

  /** A node failed: `down` (its slots cannot be served, its shard's pub/sub may have missed messages) until every master answers. */
  private onClusterLost(reason: string): void {
    this.clusterDown(reason, `Redis cluster node lost (${reason}): asking for the slot map until every master answers`);
  }

  /** `down` until every master answers and the channels are subscribed again (see `watchNodes`). */
  private clusterDown(reason: string, warning: string): void {
    if (!this.wasReady) {
      this.logger.debug(this.redact(`Redis ${this.target}: ${reason}`));
      return;
    }
    this.wasReady = this.subscriberWasReady = false;
    this.logger.warn(this.redact(warning));
    this.events.emit('down');
    this.watchNodes();
  }

  /**
   * Has every sharded pub/sub client node-redis opened report a server-side
   * `SUNSUBSCRIBE`: Redis sends one to a channel's subscribers when its
   * slot moves to another master. node-redis 5 removes the channel's
   * listeners then, and never subscribes them on the new master (its
   * cluster client waits for an event the node client does not emit:
   * redis/node-redis#3311, fixed in 6): without this, an instance would
   * stop hearing the cache bus (and every later invalidation) after a
   * resharding that moved the bus channel's slot.
   */
  private watchChannelMoves(): void {
    for (const master of this.cluster?.masters ?? []) {
      const client = master.pubSub?.client;
      if (!client || this.watchedSubscribers.has(client)) continue;
      this.watchedSubscribers.add(client);
      client.on('sharded-channel-moved', (channel: string) => this.onChannelMoved(channel));
    }
  }

  /** A subscribed channel's slot moved: messages sent on it from now on reach its new master, where nothing listens yet. */
  private onChannelMoved(channel: string): void {
    if (!this.channels.has(channel)) return;
    this.slotMapStale = true;
    const reason = `the slot of channel ${channel} moved to another master`;
    this.clusterDown(reason, `Redis cluster: ${reason} (resharding): unavailable until it is subscribed there`);
  }

  private async initSentinel(): Promise<void> {
    const sentinel = this.options.sentinel!;
    if (this.options.warnWithoutPassword && !sentinel.password) {
      this.logger.warn(`Redis via ${this.target} has no password (REDIS_PASSWORD): set requirepass in production`);
    }
    await this.afterFirstAttempt(`Redis via ${this.target}`);
  }

  private createSentinel(): SentinelLike {
    const { nodes, masterName, password, username, sentinelPassword } = this.options.sentinel!;
    const socket = {
      connectTimeout: this.options.connectTimeoutMs,
      keepAlive: true,
      reconnectStrategy: (retries: number) => reconnectDelay(retries, this.options.reconnectMaxDelayMs),
    };
    const sentinel = createSentinel({
      name: masterName,
      sentinelRootNodes: nodes.map(({ host, port }) => ({ host, port })),
      // Reads go to the master too: a replica may not have a write yet (read-after-write).
      masterPoolSize: 1,
      replicaPoolSize: 0,
      // How often the sentinels are asked for the topology, besides their +switch-master messages.
      scanInterval: 1_000,
      passthroughClientErrorEvents: true,
      nodeClientOptions: { name: this.options.clientName, disableOfflineQueue: true, password, username, socket },
      sentinelClientOptions: { password: sentinelPassword, socket },
    }) as unknown as SentinelLike;
    sentinel.on('error', (error: Error) => this.onSentinelLost(describeError(error)));
    sentinel.on('topology-change', (event: { type: string; node?: { host: string; port: number } }) => {
      if (event.type === 'MASTER_CHANGE' && this.wasReady) {
        this.onSentinelLost(`master changed to ${event.node ? `${event.node.host}:${event.node.port}` : 'a new node'}`);
      }
    });
    return sentinel;
  }

  /**
   * Resolves true once the sentinels named a master and it answered a
   * `PING`, false past `connectTimeoutMs` (the attempts go on in the
   * background, and `ready` is emitted when one succeeds).
   */
  private connectSentinel(): Promise<boolean> {
    return this.firstAttemptWithin(() => this.sentinelAttempts());
  }

  /**
   * Until connected (or shut down): ask the sentinels on a connection of our
   * own whether they name a master, and only then start the node-redis
   * client (a fresh one after a failed try: one whose connect gave up cannot
   * connect again). Backs off as the reconnects do.
   */
  private async sentinelAttempts(): Promise<void> {
    const options = this.options.sentinel!;
    for (let attempt = 0; !this.closed; attempt++) {
      const answer = await sentinelsNameMaster(options, this.options.connectTimeoutMs);
      if (answer.named) {
        if (attempt > 0) await this.replaceSentinel();
        try {
          const sentinel = this.sentinel!.current;
          await sentinel.connect();
          await withDeadline(sentinel.ping(), this.options.commandTimeoutMs);
          this.nodesUp();
          return;
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error));
          this.firstError ??= failure;
          this.logger.debug(this.redact(`Redis via ${this.target}: ${describeError(failure)}`));
        }
      } else {
        this.firstError ??= answer.reason;
        this.logger.debug(this.redact(`Redis via ${this.target}: ${describeError(answer.reason)}`));
      }
      if (this.closed) return;
      await new Promise((r) => setTimeout(r, reconnectDelay(attempt, this.options.reconnectMaxDelayMs)).unref());
    }
  }

  private async replaceSentinel(): Promise<void> {
    const previous = this.sentinel!.swap(this.createSentinel());
    await previous.destroy().catch(() => undefined);
  }

  /** The master is gone or another node took its place: `down` (pub/sub may have missed messages) until it answers. */
  private onSentinelLost(reason: string): void {
    if (!this.wasReady) {
      this.logger.debug(this.redact(`Redis via sentinels: ${reason}`));
      return;
    }
    this.wasReady = this.subscriberWasReady = false;
    this.logger.warn(this.redact(`Redis master lost (${reason}): following the sentinels`));
    this.events.emit('down');
    this.watchSentinel();
  }

  private watchSentinel(): void {
    if (this.sentinelWatch || !this.sentinel) return;
    this.background.run(() => {
      this.sentinelWatch = setInterval(() => {
        const sentinel = this.sentinel?.current;
        if (!sentinel?.isOpen) return;
        withDeadline(sentinel.ping(), this.options.commandTimeoutMs).then(
          () => this.nodesUp(),
          () => undefined,
        );
      }, this.options.probeIntervalMs);
      this.sentinelWatch.unref();
    });
  }

  /**
   * Cluster mode, after a `down`: each interval, ping every master; when one
   * does not answer, read the slot map again (from a live node, else the
   * configured ones) so that a promoted replica replaces it.
   */
  private watchNodes(): void {
    if (this.sentinelWatch || !this.cluster) return;
    this.background.run(() => {
      this.sentinelWatch = setInterval(() => {
        void (async () => {
          try {
            if (await this.checkMasters()) await this.resubscribe();
          } catch (error) {
            this.logger.debug(this.redact(`Redis ${this.target}: ${String(error)}`));
          }
        })();
      }, this.options.probeIntervalMs);
      this.sentinelWatch.unref();
    });
  }

  /** A `checkMasters` is running: the next interval skips its turn. */
  private checking = false;

  /**
   * Cluster mode: true when every master of the slot map answers a `PING`.
   * When one does not (killed, or paused: no socket error then), the slot
   * map is read again, from a master that answers (else from the configured
   * nodes), so that a replica the cluster promoted meanwhile replaces it;
   * false until then.
   */
  private async checkMasters(): Promise<boolean> {
    const cluster = this.cluster;
    if (this.checking || !cluster?.isOpen) return false;
    this.checking = true;
    try {
      await withDeadline(this.pingMasters(), this.options.commandTimeoutMs);
      return true;
    } catch {
      await this.rediscover(cluster);
      return false;
    } finally {
      this.checking = false;
    }
  }

  /** Reads the slot map again, from a master that answers (else from the configured nodes). */
  private async rediscover(cluster: RedisClusterClient): Promise<void> {
    const live = await this.liveNode();
    await withDeadline(cluster._slots.rediscover(live ?? this.rootNodeClient()), this.options.connectTimeoutMs);
  }

  /** A master's client that answers a `PING` now, if any. */
  private async liveNode(): Promise<RedisClient | undefined> {
    const nodes = await this.nodes().catch(() => []);
    const answers = await Promise.all(
      nodes.map((node) =>
        withDeadline(node.ping(), this.options.commandTimeoutMs).then(
          () => node,
          () => undefined,
        ),
      ),
    );
    return answers.find((node) => node !== undefined);
  }

  /** What `rediscover` reads options from when no master answers: the first configured node (it falls back to all of them). */
  private rootNodeClient(): RedisClient {
    const [first] = this.options.cluster!.nodes;
    return { options: { socket: { host: first.host, port: first.port } } } as unknown as RedisClient;
  }

  /** Every master answers: subscribe the channels again (on the slot map read again, after a channel moved), then `ready`. */
  private async resubscribe(): Promise<void> {
    const stale = this.slotMapStale;
    this.slotMapStale = false;
    try {
      if (stale && this.cluster) await this.rediscover(this.cluster);
      await this.subscribeAgain();
    } catch (error) {
      this.slotMapStale ||= stale;
      throw error;
    }
    this.nodesUp();
  }

  /**
   * Subscribes the channels again: a channel whose master was replaced lost
   * its subscription with the old node's connection (node-redis moves it
   * only when told of a slot move). A channel still subscribed keeps its
   * one listener.
   */
  private async subscribeAgain(): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return;
    await withDeadline(
      Promise.all([...this.channels].map(([channel, listener]) => cluster.sSubscribe(channel, listener))),
      this.options.commandTimeoutMs,
      'SSUBSCRIBE',
    );
    this.watchChannelMoves();
  }

  private nodesUp(): void {
    clearInterval(this.sentinelWatch);
    this.sentinelWatch = undefined;
    if (this.wasReady || !(this.sentinel || this.cluster)) return;
    this.wasReady = this.subscriberWasReady = true;
    this.logger.log(`Redis ready ${this.cluster ? '' : 'via '}${this.target}`);
    this.events.emit('ready');
  }

  private createClient(url: string, name: string, commands: boolean): RedisClient {
    const client = createClient({
      url,
      name,
      disableOfflineQueue: true,
      // No per-command `timeout` option: node-redis arms an AbortSignal timer
      // per command that only covers the wait before the write, while `run`
      // already bounds the whole call (see `withDeadline`).
      socket: {
        connectTimeout: this.options.connectTimeoutMs,
        keepAlive: true,
        reconnectStrategy: (retries) => reconnectDelay(retries, this.options.reconnectMaxDelayMs),
      },
    });
    // node-redis emits 'error' on every failed attempt; an unhandled 'error'
    // event would crash the process, so log transitions and count the rest.
    client.on('error', (error: Error) => this.onError(commands, error));
    client.on('ready', () => this.onReady(commands));
    return client;
  }

  /** Starts both connections; resolves true once both are ready, false at the first failure or the deadline. */
  private connect(): Promise<boolean> {
    const clients = [this.commandClient, this.subscriberClient] as RedisClient[];
    for (const c of clients) {
      c.connect().catch((error: unknown) => this.logger.debug(this.redact(`connect ended: ${String(error)}`)));
    }
    return new Promise<boolean>((resolve) => {
      const bothReady = () => clients.every((c) => c.isReady);
      const done = (ready: boolean) => {
        clearTimeout(timer);
        for (const c of clients) c.off('ready', onReady).off('error', onError);
        resolve(ready);
      };
      const onReady = () => bothReady() && done(true);
      const onError = (error: Error) => {
        this.firstError ??= error;
        done(false);
      };
      const timer = setTimeout(() => done(bothReady()), this.options.connectTimeoutMs);
      for (const c of clients) c.on('ready', onReady).on('error', onError);
    });
  }

  /** A deadline miss or a connection error counts against Redis's health; an error reply (the server answered) does not. */
  private noteFailure(error: unknown): void {
    if (isErrorReply(error)) return;
    this.failures++;
    if (this.tripped || this.failures < this.options.breakerThreshold) return;
    this.tripped = true;
    this.background.run(() => {
      this.logger.warn(`Redis failed ${this.failures} calls in a row: unavailable until it answers a PING`);
      this.events.emit('down');
      this.probe = setInterval(() => void this.probeOnce(), this.options.probeIntervalMs);
      this.probe.unref();
    });
  }

  private async probeOnce(): Promise<void> {
    if (!this.isReady) return;
    try {
      if (this.cluster) {
        if (!(await this.checkMasters())) return;
        await this.subscribeAgain();
      } else {
        await withDeadline((this.commandClient as RedisClient).ping(), this.options.commandTimeoutMs);
      }
    } catch {
      return;
    }
    if (!this.tripped) return;
    clearInterval(this.probe);
    this.probe = undefined;
    this.tripped = false;
    this.failures = 0;
    this.logger.log('Redis answers again');
    this.events.emit('ready');
  }

  /** Error texts come from the server and the socket: none should hold a password, but none may. */
  private redact(text: string): string {
    const { sentinel, cluster } = this.options;
    let redacted = redactSecrets(text, this.options.url);
    for (const secret of [sentinel?.password, sentinel?.sentinelPassword, cluster?.password]) {
      if (secret) redacted = redacted.split(secret).join('***');
    }
    return redacted;
  }

  private onReady(commands: boolean): void {
    if (commands ? this.wasReady : this.subscriberWasReady) return;
    if (commands) {
      this.wasReady = true;
      this.logger.log(`Redis ready at ${this.target}`);
    } else {
      this.subscriberWasReady = true;
    }
    this.events.emit('ready');
  }

  private onError(commands: boolean, error: Error): void {
    const wasReady = commands ? this.wasReady : this.subscriberWasReady;
    if (!wasReady) {
      this.logger.debug(this.redact(`Redis ${commands ? 'client' : 'subscriber'}: ${describeError(error)}`));
      return;
    }
    if (commands) this.wasReady = false;
    else this.subscriberWasReady = false;
    this.logger.warn(
      this.redact(
        `Redis ${commands ? 'connection' : 'subscriber connection'} lost (${describeError(error)}): reconnecting`,
      ),
    );
    this.events.emit('down');
  }
}

/** `INFO`'s text as key/value pairs (section headers and blank lines skipped). */
function parseInfo(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) result[line.slice(0, at)] = line.slice(at + 1);
  }
  return result;
}

/** `close()` waits for pending replies; past the deadline the socket is dropped. */
async function closeClient(client: RedisCommander): Promise<void> {
  if (!client.isOpen) return;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS)),
  );
  try {
    const outcome = await Promise.race([client.close().then(() => 'closed' as const), deadline]);
    if (outcome === 'timeout' && client.isOpen) client.destroy();
  } catch {
    if (client.isOpen) client.destroy();
  } finally {
    clearTimeout(timer);
  }
}
