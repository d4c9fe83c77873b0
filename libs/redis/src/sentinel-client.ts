import { createClient } from '@redis/client';
import { withDeadline } from './deadline';
import type { RedisClient } from './redis-connection.service';
import type { RedisSentinelOptions } from './redis.options';

/** What `RedisConnection` uses of node-redis's Sentinel client beyond the commands. */
export interface SentinelLike {
  connect(): Promise<unknown>;
  ping(): Promise<string>;
  close(): Promise<void>;
  destroy(): Promise<void>;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  on(event: 'error', listener: (error: Error) => void): this;
  on(
    event: 'topology-change',
    listener: (event: { type: string; node?: { host: string; port: number } }) => void,
  ): this;
  sendCommand(isReadonly: boolean | undefined, args: readonly string[], options?: unknown): Promise<unknown>;
}

/**
 * node-redis's Sentinel client as the app's `RedisClient`: the commands,
 * `multi`, pub/sub and the connection calls have the same shape on both;
 * `sendCommand` does not (the Sentinel one takes an `isReadonly` first,
 * which picks a replica when there is a replica pool). Raw commands here go
 * to the master: they are writes, scripts, or reads that must see the
 * latest write.
 *
 * The client behind it can be replaced (`swap`): a node-redis Sentinel
 * client whose first `connect` gave up cannot connect again, and the
 * libraries that were handed this client (`@keyv/redis`) keep it.
 */
export class SentinelHandle {
  private target: SentinelLike;
  /** Bound once per method and target: a command must not allocate a function per call. */
  private bound = new Map<PropertyKey, unknown>();
  /** The app's view of the current target. */
  readonly client: RedisClient;

  constructor(target: SentinelLike) {
    this.target = target;
    this.client = new Proxy({}, { get: (_, property) => this.member(property) }) as unknown as RedisClient;
  }

  get current(): SentinelLike {
    return this.target;
  }

  /** Points the client at `next` from now on; returns the previous target (the caller closes it). */
  swap(next: SentinelLike): SentinelLike {
    const previous = this.target;
    this.target = next;
    this.bound = new Map();
    return previous;
  }

  private member(property: PropertyKey): unknown {
    const known = this.bound.get(property);
    if (known) return known;
    const target = this.target;
    let value: unknown;
    if (property === 'sendCommand') {
      value = (args: readonly string[], options?: unknown) => target.sendCommand(false, args, options);
    } else {
      value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      value = (value as (...args: unknown[]) => unknown).bind(target);
    }
    this.bound.set(property, value);
    return value;
  }
}

/**
 * Whether one of the sentinels answers and names a master for `masterName`,
 * asked on a short-lived connection of our own: node-redis's Sentinel client
 * prints every failed attempt of its connect loop to stdout, so it is
 * started only once this says yes. Never throws.
 */
export async function sentinelsNameMaster(
  options: Pick<RedisSentinelOptions, 'nodes' | 'masterName' | 'sentinelPassword'>,
  timeoutMs: number,
): Promise<{ named: true } | { named: false; reason: Error }> {
  let reason: Error = new Error('no sentinel configured');
  for (const { host, port } of options.nodes) {
    const client = createClient({
      socket: { host, port, connectTimeout: timeoutMs, reconnectStrategy: false },
      password: options.sentinelPassword,
      disableOfflineQueue: true,
    });
    client.on('error', () => undefined);
    try {
      await withDeadline(client.connect(), timeoutMs);
      const reply = await withDeadline(
        client.sendCommand<string[] | null>(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', options.masterName]),
        timeoutMs,
      );
      if (reply) return { named: true };
      reason = new Error(`the sentinel at ${host}:${port} does not monitor a master named ${options.masterName}`);
    } catch (error) {
      reason = error instanceof Error ? error : new Error(String(error));
    } finally {
      if (client.isOpen) client.destroy();
    }
  }
  return { named: false, reason };
}

/** `sentinel mymaster via 10.0.0.1:26379,10.0.0.2:26379` (no password), for logs and status pages. */
export function describeSentinel(options: Pick<RedisSentinelOptions, 'masterName' | 'nodes'>): string {
  return `sentinel master ${options.masterName} via ${options.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
}
