import type { RevocationKind } from '../entities/revocation.entity';

/** One revocation as it travels between Postgres, the bus and memory. */
export interface Revocation {
  kind: RevocationKind;
  subject: string;
  /** When the last token it can match expires (ms since the epoch). */
  expiresAt: number;
}

/**
 * The unexpired revocations, in memory: a token check is one or two `Map`
 * lookups, no network. Revocations only ever get added (a revoked token never
 * comes back), so merging a reload with bus messages needs no ordering.
 */
export class RevocationSet {
  private readonly entries = new Map<string, number>();

  get size(): number {
    return this.entries.size;
  }

  add(revocations: Iterable<Revocation>): void {
    for (const { kind, subject, expiresAt } of revocations) {
      const key = `${kind}:${subject}`;
      if ((this.entries.get(key) ?? 0) < expiresAt) this.entries.set(key, expiresAt);
    }
  }

  has(kind: RevocationKind, subject: string, now = Date.now()): boolean {
    const expiresAt = this.entries.get(`${kind}:${subject}`);
    return expiresAt !== undefined && expiresAt > now;
  }

  /** Drops the revocations whose tokens have all expired. */
  prune(now = Date.now()): void {
    for (const [key, expiresAt] of this.entries) if (expiresAt <= now) this.entries.delete(key);
  }
}
