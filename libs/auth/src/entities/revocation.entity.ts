import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** What a revocation names: one access token (`jti`) or every access token of a session (`sid`). */
export type RevocationKind = 'jti' | 'sid';

/**
 * A revocation, the truth behind every instance's in-memory set. Kept until
 * the last token it can match has expired, then purged.
 */
@Entity({ name: 'auth_revocations' })
export class RevocationEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'varchar', length: 8 })
  kind: RevocationKind;

  @Column({ type: 'varchar', length: 64 })
  subject: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
