import clusterKeySlot from 'cluster-key-slot';
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

/**
 * An entry key without a cluster slot group's hash tag (see `KeyLayout`):
 * key segments never hold braces, so a trailing `{…}` is always the group's.
 */
export function withoutSlotGroup(entryKey: string): string {
  if (!entryKey.endsWith('}')) return entryKey;
  const open = entryKey.lastIndexOf('{');
  return open < 0 ? entryKey : entryKey.slice(0, open);
}

/** Hash slots of a Redis Cluster. */
const CLUSTER_SLOTS = 16_384;

/**
 * One hash tag per group, each hashing into its own 1/`groups` of the slot
 * space, so that groups spread evenly over masters that own contiguous slot
 * ranges (as `redis-cli --cluster create` assigns them). Deterministic:
 * every instance computes the same tags.
 */
function slotGroupTags(groups: number): string[] {
  const tags = new Array<string>(groups);
  let left = groups;
  for (let candidate = 0; left > 0; candidate++) {
    const tag = candidate.toString(36);
    const group = Math.floor((clusterKeySlot(tag) * groups) / CLUSTER_SLOTS);
    if (tags[group] === undefined) {
      tags[group] = tag;
      left--;
    }
  }
  return tags;
}

/** FNV-1a (32 bits) of a string's UTF-16 code units: cheap, and the same on every instance. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The Redis key layout of the design, under one prefix.
 *
 * On a Redis Cluster (`slotGroups` > 0), the read and write scripts touch an
 * entry and its tags' invalidation markers together, so both must live in
 * one slot; tags are shared by entries all over the key space. So entries
 * are spread over `slotGroups` groups by a hash of their key, each group
 * with a hash tag of its own (`{prefix}:c:{namespace}:{key}{<g>}`), and
 * every group has its own copy of every marker (`{prefix}:t:{<g>}:{tag}`):
 * a read or a guarded write is one script in one slot, and a tag
 * invalidation writes one marker per group (each group's script stamps it
 * with that master's clock, the clock its entries are stamped with). With
 * `slotGroups` 0 (one node, Sentinel), keys carry no hash tag.
 */
export class KeyLayout {
  private readonly groupTags: readonly string[];

  constructor(
    readonly prefix: string,
    readonly slotGroups = 0,
  ) {
    this.groupTags = slotGroups > 0 ? slotGroupTags(slotGroups) : [];
  }

  /** `{prefix}:c:{namespace}:{key}` — a cache entry (on a cluster, `…{key}{<g>}`: see the class). */
  entry(namespace: string, key: string): string {
    const entry = `${this.entryPrefix}${namespace}:${key}`;
    if (this.slotGroups === 0) return entry;
    return `${entry}{${this.groupTags[fnv1a(entry) % this.slotGroups]}}`;
  }

  /**
   * An entry key without its slot group's hash tag (`namespace` and `key`
   * segments never hold braces, so a trailing `{…}` is always the group's).
   */
  withoutGroup(entryKey: string): string {
    return this.slotGroups === 0 ? entryKey : withoutSlotGroup(entryKey);
  }

  /** The prefix of the markers an entry's scripts read: `{prefix}:t:` (cluster: `{prefix}:t:{<g>}:`, the entry's group). */
  markerPrefixOf(entryKey: string): string {
    if (this.slotGroups === 0) return this.tagPrefix;
    const open = entryKey.lastIndexOf('{');
    return `${this.tagPrefix}${entryKey.slice(open)}:`;
  }

  /** Every group's marker prefix (one node: just `tagPrefix`): a tag invalidation writes a marker under each. */
  get markerPrefixes(): readonly string[] {
    return this.slotGroups === 0 ? [this.tagPrefix] : this.groupTags.map((tag) => `${this.tagPrefix}{${tag}}:`);
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
    return `loader:${this.withoutGroup(entryKey).slice(this.prefix.length + 3)}`;
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
