import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { clip, MAX_TARGET_CHARS } from './audit-text';
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

  /** Newest first. */
  async page(
    page: number,
    limit: number,
  ): Promise<{ items: AuditEntry[]; page: number; limit: number; total: number }> {
    const [rows, total] = await this.db.getRepository(CacheAuditEntity).findAndCount({
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: (page - 1) * limit,
      take: limit,
    });
    const items = rows.map((row) => ({ ...row, createdAt: new Date(row.createdAt).toISOString() }));
    return { items, page, limit, total };
  }
}
