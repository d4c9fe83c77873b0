import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createClient, createSentinel, ErrorReply, type RedisClientType } from '@redis/client';
import { EventEmitter } from 'node:events';
import { BackgroundScope } from './background-scope';
import { CLOSE_TIMEOUT_MS } from './redis.constants';
import { withDeadline } from './deadline';
import { RedisNotConfiguredError, RedisUnavailableError } from './redis.errors';
import { REDIS_OPTIONS_TOKEN } from './redis.module-definition';
import { resolveRedisOptions, type RedisModuleOptions, type ResolvedRedisOptions } from './redis.options';
import { describeConnectionFailure, describeError } from './connection-failure';
import { hasPassword, redactRedisUrl, redactSecrets } from './redis-url';
import { reconnectDelay } from './reconnect-strategy';
import { describeSentinel, SentinelHandle, sentinelsNameMaster, type SentinelLike } from './sentinel-client';

/** The node-redis v5 client type used across the app (and accepted by `@keyv/redis`). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the defaults createClient() infers
export type RedisClient = RedisClientType<{}, {}, {}, 2, {}>;

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
 */
@Injectable()
export class RedisConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnection.name);
  private readonly options: ResolvedRedisOptions;
  private readonly events = new EventEmitter();
  private commandClient?: RedisClient;
  private subscriberClient?: RedisClient;
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
  /** Sentinel mode: pings the master after a `down` until it answers (then `ready`). */
  private sentinelWatch?: NodeJS.Timeout;

  constructor(@Inject(REDIS_OPTIONS_TOKEN) options: RedisModuleOptions) {
    this.options = resolveRedisOptions(options);
    // Created and connecting from here, so that other providers' factories
    // can hand the client to libraries such as @keyv/redis, and their init
    // hooks can await the first attempt whatever order Nest runs hooks in.
    if (this.options.sentinel) {
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

  /** True when a URL or sentinels are configured (whether or not Redis answers right now). */
  get enabled(): boolean {
    return this.options.url !== undefined || this.options.sentinel !== undefined;
  }

  /** The URL without credentials (or the sentinels and master name), for logs and status pages. */
  get target(): string | undefined {
    if (this.options.sentinel) return describeSentinel(this.options.sentinel);
    return this.options.url && redactRedisUrl(this.options.url);
  }

  /** Per-command deadline in milliseconds. */
  get commandTimeoutMs(): number {
    return this.options.commandTimeoutMs;
  }

  /** The command client. Throws `RedisNotConfiguredError` when no URL is set. */
  get client(): RedisClient {
    if (!this.commandClient) throw new RedisNotConfiguredError();
    return this.commandClient;
  }

  /** The pub/sub connection (subscribe mode only). */
  get subscriber(): RedisClient {
    if (!this.subscriberClient) throw new RedisNotConfiguredError();
    return this.subscriberClient;
  }

  /** True while the command client's socket is connected and handshaken (Sentinel: the master answers). */
  get isReady(): boolean {
    if (this.sentinel) return this.wasReady;
    return this.commandClient?.isReady ?? false;
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
    if (this.sentinel) return this.subscriberWasReady;
    return this.subscriberClient?.isReady ?? false;
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
  run<T>(operation: (client: RedisClient) => Promise<T>, timeoutMs = this.options.commandTimeoutMs): Promise<T> {
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

  /** Round-trip latency of a `PING` in milliseconds; rejects past the deadline. */
  async ping(timeoutMs = this.options.commandTimeoutMs): Promise<number> {
    const started = performance.now();
    await this.run((client) => client.ping(), timeoutMs);
    return performance.now() - started;
  }

  /** `INFO [section]` parsed into key/value pairs. */
  async info(section?: string): Promise<Record<string, string>> {
    const text = await this.run((client) => (section ? client.info(section) : client.info()));
    const result: Record<string, string> = {};
    for (const line of text.split('\r\n')) {
      const at = line.indexOf(':');
      if (at > 0 && !line.startsWith('#')) result[line.slice(0, at)] = line.slice(at + 1);
    }
    return result;
  }

  async onModuleInit(): Promise<void> {
    if (this.options.sentinel) return this.initSentinel();
    const { url } = this.options;
    if (!url) {
      this.logger.log('no Redis URL (REDIS_URL unset, or CACHE_BACKEND=memory): no Redis connection, memory only');
      return;
    }
    if (this.options.warnWithoutPassword && !hasPassword(url)) {
      this.logger.warn(`Redis at ${redactRedisUrl(url)} has no password in its URL: set requirepass in production`);
    }
    const ready = await this.firstAttempt;
    if (ready) return;
    const failure = describeConnectionFailure(this.firstError, this.options.connectTimeoutMs);
    const message = this.redact(`Redis at ${redactRedisUrl(url)} ${failure}`);
    if (this.options.required) {
      await this.onApplicationShutdown();
      throw new RedisUnavailableError(`${message}, and CACHE_BACKEND=redis requires it`, { cause: this.firstError });
    }
    this.logger.warn(`${message}: serving without it, retrying`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.probe);
    clearInterval(this.sentinelWatch);
    this.probe = this.sentinelWatch = undefined;
    const clients = [...new Set([this.commandClient, this.subscriberClient])].filter((c): c is RedisClient => !!c);
    this.commandClient = this.subscriberClient = undefined;
    this.events.removeAllListeners();
    await Promise.all(clients.map((client) => closeClient(client)));
  }

  private async initSentinel(): Promise<void> {
    const sentinel = this.options.sentinel!;
    if (this.options.warnWithoutPassword && !sentinel.password) {
      this.logger.warn(`Redis via ${this.target} has no password (REDIS_PASSWORD): set requirepass in production`);
    }
    if (await this.firstAttempt) return;
    const failure = describeConnectionFailure(this.firstError, this.options.connectTimeoutMs);
    const message = this.redact(`Redis via ${this.target} ${failure}`);
    if (this.options.required) {
      await this.onApplicationShutdown();
      throw new RedisUnavailableError(`${message}, and CACHE_BACKEND=redis requires it`, { cause: this.firstError });
    }
    this.logger.warn(`${message}: serving without it, retrying`);
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
    const attempts = this.background.run(() => this.sentinelAttempts());
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.options.connectTimeoutMs);
      void attempts.then(() => {
        clearTimeout(timer);
        resolve(this.wasReady);
      });
    });
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
          this.sentinelUp();
          return;
        } catch (error) {
          this.firstError ??= error instanceof Error ? error : new Error(String(error));
          this.logger.debug(this.redact(`Redis via ${this.target}: ${describeError(this.firstError)}`));
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
          () => this.sentinelUp(),
          () => undefined,
        );
      }, this.options.probeIntervalMs);
      this.sentinelWatch.unref();
    });
  }

  private sentinelUp(): void {
    clearInterval(this.sentinelWatch);
    this.sentinelWatch = undefined;
    if (this.wasReady || !this.sentinel) return;
    this.wasReady = this.subscriberWasReady = true;
    this.logger.log(`Redis ready via ${this.target}`);
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
    const clients = [this.client, this.subscriber];
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
    if (error instanceof ErrorReply) return;
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
    const client = this.commandClient;
    if (!client?.isReady) return;
    try {
      await withDeadline(client.ping(), this.options.commandTimeoutMs);
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
    const { sentinel } = this.options;
    let redacted = redactSecrets(text, this.options.url);
    for (const secret of [sentinel?.password, sentinel?.sentinelPassword]) {
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

/** `close()` waits for pending replies; past the deadline the socket is dropped. */
async function closeClient(client: RedisClient): Promise<void> {
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
