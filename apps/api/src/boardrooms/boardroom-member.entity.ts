import { UserEntity } from '@app/auth';
import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { BoardroomEntity } from './boardroom.entity';

/** Membership roles: the owner writes, members read. */
export type MemberRole = 'owner' | 'member';

/** A user's membership of a boardroom. */
@Entity({ name: 'boardroom_members' })
export class BoardroomMemberEntity {
  @PrimaryColumn({ name: 'boardroom_id', type: 'uuid' })
  boardroomId: string;

  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'varchar', length: 16 })
  role: MemberRole;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @ManyToOne(() => BoardroomEntity, (boardroom) => boardroom.members, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'boardroom_id' })
  boardroom?: BoardroomEntity;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;
}
