/** A Redis Sentinel deployment (see `RedisModuleOptions.sentinel`). */
export interface RedisSentinelOptions {
  /** Sentinels to ask first (`host:port` each); the client learns the others from them. */
  nodes: ReadonlyArray<{ host: string; port: number }>;
  /** The monitored master's name (`sentinel monitor <name> …`). */
  masterName: string;
  /** The data nodes' password (`requirepass` of the master and replicas). */
  password?: string;
  /** The data nodes' ACL user name, when not `default`. */
  username?: string;
  /** The sentinels' own password (`requirepass` in sentinel.conf), when they have one. */
  sentinelPassword?: string;
}

/** A Redis Cluster (see `RedisModuleOptions.cluster`). */
export interface RedisClusterOptions {
  /** Nodes to ask for the slot map first (`host:port` each); the client learns the others from them. List several: one is enough only while it is up. */
  nodes: ReadonlyArray<{ host: string; port: number }>;
  /** The nodes' password (`requirepass`, the same on every node). */
  password?: string;
  /** The nodes' ACL user name, when not `default`. */
  username?: string;
}

/** Options of `RedisModule`. Every field has a default except the URL. */
export interface RedisModuleOptions {
  /**
   * `redis://[[user]:password@]host:port[/db]`, or `rediss://` for TLS.
   * User name and password are percent-decoded (`p%40ss` is `p@ss`). TLS
   * verifies the server certificate against Node's CA store (a private CA
   * goes in `NODE_EXTRA_CA_CERTS`). When unset, nothing connects and
   * `RedisConnection.enabled` is false.
   */
  url?: string;
  /**
   * A Sentinel deployment instead of `url` (never both): commands and
   * pub/sub go to the master the sentinels name, and follow it through a
   * failover. Each master change counts as a lost connection (`down`, then
   * `ready` once a `PING` answers): pub/sub messages may have been missed in
   * the switch.
   */
  sentinel?: RedisSentinelOptions;
  /**
   * A Redis Cluster instead of `url` or `sentinel` (exactly one of the
   * three): node-redis's cluster client routes every command to the master
   * of its key's slot (reads too: a replica may not have a write yet).
   * Multi-key commands and scripts must keep their keys in one slot (a
   * shared `{hash tag}`); pub/sub is sharded (`SPUBLISH`/`SSUBSCRIBE`, see
   * `RedisConnection.publish`). When a master stops answering, calls to its
   * slots fail (and count against the breaker); the probe asks the cluster
   * for its slot map again until every master answers, so a replica that
   * took over is found.
   */
  cluster?: RedisClusterOptions;
  /**
   * When true, boot fails unless Redis answers within `connectTimeoutMs`
   * (the `CACHE_BACKEND=redis` mode). When false, an unreachable Redis is
   * logged and retried in the background.
   * @default false
   */
  required?: boolean;
  /**
   * Deadline of one TCP/TLS connection attempt, in milliseconds.
   * @default 2000
   */
  connectTimeoutMs?: number;
  /**
   * Deadline of every call made through `RedisConnection.run` (the cache,
   * health checks), in milliseconds. A Redis that accepts
   * connections but does not answer (paused, blackholed) fails here.
   * @default 500
   */
  commandTimeoutMs?: number;
  /**
   * Upper bound of the delay between reconnection attempts, in milliseconds.
   * Delays grow exponentially from 50 ms up to this bound, with jitter.
   * @default 2000
   */
  reconnectMaxDelayMs?: number;
  /**
   * Warn at boot when the URL carries no password (set in production).
   * @default false
   */
  warnWithoutPassword?: boolean;
  /**
   * Client name shown by `CLIENT LIST`; the subscriber gets `-sub` appended.
   * @default 'app'
   */
  clientName?: string;
  /**
   * Consecutive failed calls (deadline misses and connection errors; error
   * replies such as `WRONGTYPE` do not count) after which Redis counts as
   * unavailable for every user of this connection (see
   * `RedisConnection.available`), until a probe `PING` answers.
   * @default 3
   */
  breakerThreshold?: number;
  /**
   * While Redis counts as unavailable, how often a `PING` checks whether it
   * answers again, in milliseconds.
   * @default 500
   */
  probeIntervalMs?: number;
}

/** `RedisModuleOptions` with every default applied. */
export type ResolvedRedisOptions = Required<Omit<RedisModuleOptions, 'url' | 'sentinel' | 'cluster'>> &
  Pick<RedisModuleOptions, 'url' | 'sentinel' | 'cluster'>;

/** Applies the documented defaults. */
export function resolveRedisOptions(options: RedisModuleOptions): ResolvedRedisOptions {
  return {
    url: options.url || undefined,
    sentinel: options.sentinel?.nodes.length ? options.sentinel : undefined,
    cluster: options.cluster?.nodes.length ? options.cluster : undefined,
    required: options.required ?? false,
    connectTimeoutMs: options.connectTimeoutMs ?? 2_000,
    commandTimeoutMs: options.commandTimeoutMs ?? 500,
    reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? 2_000,
    warnWithoutPassword: options.warnWithoutPassword ?? false,
    clientName: options.clientName ?? 'app',
    breakerThreshold: options.breakerThreshold ?? 3,
    probeIntervalMs: options.probeIntervalMs ?? 500,
  };
}
