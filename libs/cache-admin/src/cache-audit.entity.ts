import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * How an admin action ended: `pending` while it runs, and for good when its
 * outcome could not be written after it ran (the database failed meanwhile).
 */
export type AuditOutcome = 'pending' | 'ok' | 'not_found' | 'error';

/** One admin action on the cache: who, what, on what, when, and how it ended. */
@Entity({ name: 'cache_audit' })
export class CacheAuditEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The admin's user id (kept when the account is deleted: the audit outlives it). */
  @Column({ name: 'actor_id', type: 'uuid' })
  actorId: string;

  @Column({ type: 'varchar', length: 40 })
  action: string;

  /** What it acted on (a key, an invalidation's keys and tags as JSON, a namespace, a user id), whole. */
  @Column({ type: 'text' })
  target: string;

  @Column({ type: 'varchar', length: 16 })
  outcome: AuditOutcome;

  /** A short, client-safe detail (an error's message), or null. */
  @Column({ type: 'varchar', length: 500, nullable: true })
  detail: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
