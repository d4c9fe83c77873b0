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
 */
export function adaptSentinel(sentinel: SentinelLike): RedisClient {
  const sendCommand = (args: readonly string[], options?: unknown) => sentinel.sendCommand(false, args, options);
  // Bound once per method: a command must not allocate a function per call.
  const bound = new Map<PropertyKey, unknown>([['sendCommand', sendCommand]]);
  return new Proxy(sentinel, {
    get(target, property, receiver) {
      const known = bound.get(property);
      if (known) return known;
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      bound.set(property, method);
      return method;
    },
  }) as unknown as RedisClient;
}

/** `sentinel mymaster via 10.0.0.1:26379,10.0.0.2:26379` (no password), for logs and status pages. */
export function describeSentinel(options: Pick<RedisSentinelOptions, 'masterName' | 'nodes'>): string {
  return `sentinel master ${options.masterName} via ${options.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
}
