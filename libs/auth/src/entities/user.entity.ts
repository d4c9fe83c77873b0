import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Role } from '../auth.constants';

/**
 * An account. `email` is unique case-insensitively (a unique index on
 * `lower(email)`); the password hash is never selected unless asked for.
 */
@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  role: Role;

  @Column({ name: 'password_hash', type: 'varchar', length: 255, select: false })
  passwordHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** What the API shows of a user. */
export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export const toPublicUser = ({ id, email, name, role }: UserEntity): PublicUser => ({ id, email, name, role });
