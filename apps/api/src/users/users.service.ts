import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ConversationStateService } from '@app/conversation-state';
import { QueryCache } from '@app/query-cache';
import {
  AuthError,
  SessionService,
  toPublicUser,
  UserEntity,
  type AuthenticatedUser,
  type PublicUser,
} from '@app/auth';
import { BoardroomMemberEntity } from '../boardrooms/boardroom-member.entity';
import { BoardroomEntity } from '../boardrooms/boardroom.entity';
import { DomainError, pgCode, UNIQUE_VIOLATION } from '../common/domain.errors';
import { toPage, type Page, type PaginationQuery } from '../common/pagination.dto';
import type { UpdateUserDto } from './users.dto';

/**
 * Users: cached reads (`QueryCache`), and writes through TypeORM entities so
 * the query cache's subscriber invalidates every cached view of the user
 * after the commit.
 */
@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly qc: QueryCache,
    private readonly sessions: SessionService,
    private readonly conversations: ConversationStateService,
  ) {}

  async get(id: string): Promise<PublicUser> {
    const user = await this.qc.cached(UserEntity).findOneBy({ id });
    if (!user) throw DomainError.notFound('User');
    return toPublicUser(user);
  }

  /**
   * `GET /auth/me`: the caller, read through the query cache (and invalidated
   * with every other view of the user). An account deleted after the token
   * was issued answers 401, as the auth library's own lookup does.
   */
  async me(caller: AuthenticatedUser): Promise<PublicUser> {
    const user = await this.qc.cached(UserEntity).findOneBy({ id: caller.id });
    if (!user) throw AuthError.unauthenticated('Account no longer exists');
    return toPublicUser(user);
  }

  async list(query: PaginationQuery): Promise<Page<PublicUser>> {
    const [users, total] = await this.qc.cached(UserEntity).findAndCount({
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: (query.page - 1) * query.limit,
      take: query.limit,
    });
    return toPage([users.map(toPublicUser), total], query);
  }

  /** Self or admin; a role change (admins only) ends the user's sessions so old-role tokens die. */
  async update(caller: AuthenticatedUser, id: string, changes: UpdateUserDto): Promise<PublicUser> {
    if (caller.id !== id && caller.role !== 'admin')
      throw DomainError.forbidden('You may only change your own account');
    if (changes.role !== undefined && caller.role !== 'admin')
      throw DomainError.forbidden('Only an admin may change roles');
    const repo = this.db.getRepository(UserEntity);
    const user = await repo.findOneBy({ id });
    if (!user) throw DomainError.notFound('User');
    const roleChanged = changes.role !== undefined && changes.role !== user.role;
    // Fail closed: if the revocations cannot be written, the role does not change.
    if (roleChanged) await this.sessions.endAll(id);
    if (changes.name !== undefined) user.name = changes.name;
    if (changes.email !== undefined) user.email = changes.email.toLowerCase();
    if (changes.role !== undefined) user.role = changes.role;
    try {
      await repo.save(user);
    } catch (error) {
      if (pgCode(error) === UNIQUE_VIOLATION) {
        throw new DomainError('E_CONFLICT', 'An account with this email exists');
      }
      throw error;
    }
    // Again after the commit: a login that read the old role opened its session before this commit.
    if (roleChanged) await this.sessions.endAll(id);
    return toPublicUser(user);
  }

  /**
   * Admin only (the route says so). Ends the user's sessions first (their
   * tokens stop at once; if that fails nothing is deleted), then removes
   * memberships, owned boardrooms and the user in one transaction, row by
   * row, so every cached list they were in is invalidated. A login racing
   * the delete may open a session after the first step; the transaction
   * locks the user row (no session can be added past it) and notes those
   * sessions, whose rows the cascade deletes, to revoke their tokens too.
   * The conversations the database changes by itself (those of the owned
   * boardrooms go; the user's own lose their `createdBy` and authors) have
   * their cached copies dropped after the commit, before this returns.
   */
  async remove(id: string): Promise<void> {
    if (!(await this.db.getRepository(UserEntity).existsBy({ id }))) throw DomainError.notFound('User');
    await this.sessions.endAll(id);
    const done = await this.db.transaction(async (tx) => {
      const user = await tx.findOne(UserEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) return { opened: [], changed: [] };
      const opened = await this.sessions.openSessionIds(id, tx);
      // Locked: no conversation is created in them meanwhile (its foreign key check waits, then fails).
      const owned = await tx.find(BoardroomEntity, { where: { ownerId: id }, lock: { mode: 'pessimistic_write' } });
      // What the database changes by itself below: the owned boardrooms' conversations (cascade),
      // and the user's own conversations and messages (`created_by`, `author_id` set to null).
      const changed = await this.conversations.affectedBy(tx, { boardroomIds: owned.map((b) => b.id), userId: id });
      const memberships = await tx.find(BoardroomMemberEntity, {
        where: [{ userId: id }, ...owned.map((b) => ({ boardroomId: b.id }))],
      });
      await tx.remove(memberships);
      await tx.remove(owned);
      await tx.remove(user);
      return { opened, changed };
    });
    await this.conversations.forget(done.changed);
    if (done.opened.length > 0) await this.sessions.revokeAccess(done.opened);
  }

  /** Loads the user into the cache (admin warm-up). */
  async warm(id: string): Promise<PublicUser> {
    return this.get(id);
  }
}
