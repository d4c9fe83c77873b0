import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { clip, LISTED_TARGET_CHARS, MAX_TARGET_CHARS } from './audit-text';
import { CacheAuditEntity, type AuditOutcome } from './cache-audit.entity';

/** One audited action, as the API shows it. */
export interface AuditEntry {
  id: string;
  actorId: string;
  action: string;
  target: string;
  outcome: AuditOutcome;
  detail: string | null;
  createdAt: string;
}

/** An entry as a page of the log lists it: `target` cut to `LISTED_TARGET_CHARS`, and whether it was. */
export interface ListedAuditEntry extends AuditEntry {
  targetTruncated: boolean;
}

/** A row of the page's query: the target's first characters and its whole length. */
interface ListedRow {
  id: string;
  actorId: string;
  action: string;
  target: string;
  targetChars: number;
  outcome: AuditOutcome;
  detail: string | null;
  createdAt: Date | string;
}

const iso = (date: Date | string): string => new Date(date).toISOString();

/** An entry `begin` wrote, for `finish`. */
export interface PendingAudit {
  readonly id: string;
  readonly actorId: string;
  readonly action: string;
  readonly target: string;
}

/**
 * The audit log of admin actions: stored in Postgres and logged. An entry
 * is written before its action runs (`begin`, outcome `pending`) and given
 * its outcome after (`finish`): when the entry cannot be written the action
 * does not run and the call fails, so no action goes unaudited.
 */
@Injectable()
export class CacheAuditService {
  private readonly logger = new Logger('CacheAudit');

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Writes the entry of an action about to run, as `pending`. Throws when it cannot be written. */
  async begin(actorId: string, action: string, target: string): Promise<PendingAudit> {
    const entry = {
      actorId,
      action,
      target: clip(target, MAX_TARGET_CHARS),
      outcome: 'pending' as const,
      detail: null,
    };
    const { identifiers } = await this.db.getRepository(CacheAuditEntity).insert(entry);
    return { id: (identifiers[0] as { id: string }).id, actorId, action, target: entry.target };
  }

  /**
   * Gives an entry its outcome. Never throws: the action has run by now, and
   * failing its response would tell the admin it had not. An outcome that
   * cannot be written is logged as an error, and the entry stays `pending`.
   */
  async finish(entry: PendingAudit, outcome: AuditOutcome, detail?: string): Promise<void> {
    const clipped = detail === undefined ? null : clip(detail);
    const { id, actorId, action, target } = entry;
    // The line names the target, cut as it used to be stored; the entry holds it whole.
    this.logger.log(`admin ${actorId} ${action} ${clip(target)}: ${outcome}${clipped ? ` (${clipped})` : ''}`);
    try {
      await this.db.getRepository(CacheAuditEntity).update({ id }, { outcome, detail: clipped });
    } catch (error) {
      this.logger.error(
        `audit entry ${id} (${action}) left pending: its outcome ${outcome} was not stored: ${String(error)}`,
      );
    }
  }

  /**
   * Newest first, each target cut to `LISTED_TARGET_CHARS` by Postgres (a
   * dashboard polling 20 entries every few seconds must not fetch an
   * invalidation's 140,000 characters each time): `entry` has it whole.
   */
  async page(
    page: number,
    limit: number,
  ): Promise<{ items: ListedAuditEntry[]; page: number; limit: number; total: number }> {
    const repository = this.db.getRepository(CacheAuditEntity);
    const [rows, total] = await Promise.all([
      repository
        .createQueryBuilder('a')
        .select(['a.id AS "id"', 'a.actor_id AS "actorId"', 'a.action AS "action"', 'a.outcome AS "outcome"'])
        .addSelect(['a.detail AS "detail"', 'a.created_at AS "createdAt"'])
        .addSelect('left(a.target, :listed)', 'target')
        .addSelect('char_length(a.target)', 'targetChars')
        .setParameter('listed', LISTED_TARGET_CHARS)
        .orderBy('a.created_at', 'DESC')
        .addOrderBy('a.id', 'DESC')
        .offset((page - 1) * limit)
        .limit(limit)
        .getRawMany<ListedRow>(),
      repository.count(),
    ]);
    const items = rows.map(({ targetChars, ...row }) => {
      const targetTruncated = Number(targetChars) > LISTED_TARGET_CHARS;
      // Cut as `clip` cuts (on a code point, ending in `...`, no longer than the limit), as Postgres counted.
      const target = targetTruncated
        ? `${Array.from(row.target)
            .slice(0, LISTED_TARGET_CHARS - 3)
            .join('')}...`
        : row.target;
      return { ...row, target, targetTruncated, createdAt: iso(row.createdAt) };
    });
    return { items, page, limit, total };
  }

  /** One entry, its target whole; undefined when there is none with this id. */
  async entry(id: string): Promise<AuditEntry | undefined> {
    const row = await this.db.getRepository(CacheAuditEntity).findOneBy({ id });
    return row ? { ...row, createdAt: iso(row.createdAt) } : undefined;
  }
}
