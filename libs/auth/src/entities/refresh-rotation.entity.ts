import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The hash of a refresh secret that was rotated away. Presenting it again is
 * token reuse (a stolen token raced its owner): the whole session is ended.
 */
@Entity({ name: 'auth_refresh_rotations' })
export class RefreshRotationEntity {
  @PrimaryColumn({ name: 'secret_hash', type: 'char', length: 64 })
  secretHash: string;

  @Column({ name: 'session_id', type: 'uuid' })
  sessionId: string;

  @Column({ name: 'rotated_at', type: 'timestamptz' })
  rotatedAt: Date;
}
