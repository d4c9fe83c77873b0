import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
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

const clip = (text: string) => (text.length > 500 ? `${text.slice(0, 497)}...` : text);

/**
 * The audit log of admin actions: stored in Postgres and logged. A failure
 * to store an entry is logged and fails the action's response (500): an
 * action that cannot be audited is not silently accepted.
 */
@Injectable()
export class CacheAuditService {
  private readonly logger = new Logger('CacheAudit');

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async record(actorId: string, action: string, target: string, outcome: AuditOutcome, detail?: string): Promise<void> {
    const entry = {
      actorId,
      action,
      target: clip(target),
      outcome,
      detail: detail === undefined ? null : clip(detail),
    };
    this.logger.log(`admin ${actorId} ${action} ${entry.target}: ${outcome}${detail ? ` (${entry.detail})` : ''}`);
    await this.db.getRepository(CacheAuditEntity).insert(entry);
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
