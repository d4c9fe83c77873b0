import { hash } from 'node:crypto';

const SAFE = /^[A-Za-z0-9:_.-]{1,200}$/;

/**
 * A key segment safe to embed in a Redis key: kept as is when short and made
 * of `[A-Za-z0-9:_.-]`, otherwise replaced by `h.` + the SHA-256 of the input
 * (base64url, 43 characters). User input therefore never injects separators,
 * glob characters or Cluster hash tags, and key length stays bounded.
 */
export function safeSegment(input: string): string {
  return SAFE.test(input) ? input : `h.${hash('sha256', input, 'base64url')}`;
}

const SAFE_NAMESPACE = /^[A-Za-z0-9_.-]{1,100}$/;

/** Like `safeSegment`, without `:`, so the namespace of an entry key can be read back. */
export function safeNamespace(input: string): string {
  return SAFE_NAMESPACE.test(input) ? input : `h.${hash('sha256', input, 'base64url')}`;
}

/** Canonical JSON: object keys sorted, so `{a,b}` and `{b,a}` give the same key. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? 'undefined');
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/**
 * Builds a cache key from parts: strings and numbers are joined with `:`,
 * objects (query parameters) are canonicalised; the result goes through
 * `safeSegment`. `buildKey('user', 42)` → `user:42`.
 */
export function buildKey(...parts: unknown[]): string {
  const text = parts.map((p) => (typeof p === 'string' || typeof p === 'number' ? String(p) : canonical(p))).join(':');
  return safeSegment(text);
}

/** The Redis key layout of the design, under one prefix. */
export class KeyLayout {
  constructor(readonly prefix: string) {}

  /** `{prefix}:c:{namespace}:{key}` — a cache entry. */
  entry(namespace: string, key: string): string {
    return `${this.entryPrefix}${namespace}:${key}`;
  }

  /** `{prefix}:c:` — the start of every entry's key. */
  get entryPrefix(): string {
    return `${this.prefix}:c:`;
  }

  /** `{prefix}:t:` — the prefix of tag invalidation markers. */
  get tagPrefix(): string {
    return `${this.prefix}:t:`;
  }

  /**
   * The keys of a `DistributedLock` (`name` already made safe: no braces):
   * `{prefix}:lk:{<name>}` holds the owner's token, `{prefix}:lk:{<name>}:fence`
   * the last fencing token. The hash tag puts both in one Redis Cluster slot,
   * so the acquire script can touch both atomically.
   */
  lock(name: string): { lock: string; fence: string } {
    const lock = `${this.prefix}:lk:{${name}}`;
    return { lock, fence: `${lock}:fence` };
  }

  /** The lock name `getOrSet(..., { lockAcrossInstances })` takes for an entry key: `loader:{namespace}:{key}`. */
  loaderLockName(entryKey: string): string {
    return `loader:${entryKey.slice(this.prefix.length + 3)}`;
  }

  /** `{prefix}:bus` — the invalidation channel. */
  get bus(): string {
    return `${this.prefix}:bus`;
  }

  /** `{prefix}:bus:ack:{instance}` — where an instance collects acknowledgements. */
  ack(instanceId: string): string {
    return `${this.prefix}:bus:ack:${instanceId}`;
  }
}

/** The implicit tag every entry of a namespace carries: clearing a namespace invalidates it. */
export const namespaceTag = (namespace: string) => `ns.${namespace}`;
