import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ConversationStateService } from '@app/conversation-state';
import { QueryCache } from '@app/query-cache';
import { AuthError, UserEntity, type AuthenticatedUser } from '@app/auth';
import { DomainError, FOREIGN_KEY_VIOLATION, pgCode, UNIQUE_VIOLATION } from '../common/domain.errors';
import { toPage, type Page, type PaginationQuery } from '../common/pagination.dto';
import { BoardroomMemberEntity } from './boardroom-member.entity';
import { BoardroomEntity } from './boardroom.entity';
import { toBoardroomView, type BoardroomView } from './boardroom.view';
import type { AddMemberDto, CreateBoardroomDto, UpdateBoardroomDto } from './boardrooms.dto';

/** Lifetime of a cached membership check: the longest a removed member keeps access while Redis is down. */
const MEMBERSHIP_TTL_MS = 5_000;

/**
 * Boardrooms: members read, owners write, admins do everything. Reads go
 * through the query cache; writes go through entities, and the query cache
 * invalidates after the commit every cached read they touch (the boardroom,
 * the member lists, everyone's "my boardrooms" pages and counts).
 */
@Injectable()
export class BoardroomsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly qc: QueryCache,
    private readonly conversations: ConversationStateService,
  ) {}

  async create(caller: AuthenticatedUser, input: CreateBoardroomDto): Promise<BoardroomView> {
    const boardroom = await this.db
      .transaction(async (tx) => {
        const created = await tx.save(
          tx.create(BoardroomEntity, { name: input.name, description: input.description ?? null, ownerId: caller.id }),
        );
        await tx.save(tx.create(BoardroomMemberEntity, { boardroomId: created.id, userId: caller.id, role: 'owner' }));
        return created;
      })
      .catch((error: unknown) => {
        // The only foreign keys written here are the caller's (the room is this transaction's own): the
        // account was deleted after the token passed the guard. A 401, as /auth/me and a revoked token answer.
        if (pgCode(error) === FOREIGN_KEY_VIOLATION) throw AuthError.unauthenticated('Account no longer exists');
        throw error;
      });
    return toBoardroomView(boardroom);
  }

  /** The caller's boardrooms, newest first. */
  async listMine(caller: AuthenticatedUser, query: PaginationQuery): Promise<Page<BoardroomView>> {
    const [rooms, total] = await this.qc.cached(BoardroomEntity).findAndCount({
      where: { members: { userId: caller.id } },
      order: { createdAt: 'DESC', id: 'ASC' },
      skip: (query.page - 1) * query.limit,
      take: query.limit,
    });
    return toPage([rooms.map(toBoardroomView), total], query);
  }

  /** One boardroom with its members; 404 for a non-member (its existence is not disclosed). */
  async get(caller: AuthenticatedUser, id: string): Promise<BoardroomView> {
    await this.requireRole(caller, id, ['owner', 'member']);
    return this.load(id);
  }

  async update(caller: AuthenticatedUser, id: string, changes: UpdateBoardroomDto): Promise<BoardroomView> {
    await this.requireRole(caller, id, ['owner']);
    const repo = this.db.getRepository(BoardroomEntity);
    const boardroom = await repo.findOneBy({ id });
    if (!boardroom) throw DomainError.notFound('Boardroom');
    if (changes.name !== undefined) boardroom.name = changes.name;
    if (changes.description !== undefined) boardroom.description = changes.description;
    await repo.save(boardroom);
    return this.load(id);
  }

  /**
   * Deletes the boardroom, its members and (by the database's cascade) its
   * conversations; the cached copies of those go too, on every instance,
   * before this returns. The row lock keeps a conversation from being
   * created in it meanwhile (its foreign key check waits, then fails).
   */
  async remove(caller: AuthenticatedUser, id: string): Promise<void> {
    await this.requireRole(caller, id, ['owner']);
    const conversations = await this.db.transaction(async (tx) => {
      const boardroom = await tx.findOne(BoardroomEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
      // An admin passes requireRole for any id: a missing boardroom is a 404 for them too, not a silent 204.
      if (!boardroom) throw DomainError.notFound('Boardroom');
      const cascaded = await this.conversations.affectedBy(tx, { boardroomIds: [id] });
      await tx.remove(await tx.findBy(BoardroomMemberEntity, { boardroomId: id }));
      await tx.remove(boardroom);
      return cascaded;
    });
    await this.conversations.forget(conversations);
  }

  async addMember(caller: AuthenticatedUser, id: string, input: AddMemberDto): Promise<BoardroomView> {
    await this.requireRole(caller, id, ['owner']);
    if (!(await this.db.getRepository(UserEntity).existsBy({ id: input.userId }))) throw DomainError.notFound('User');
    const members = this.db.getRepository(BoardroomMemberEntity);
    if (await members.existsBy({ boardroomId: id, userId: input.userId })) {
      throw new DomainError('E_CONFLICT', 'Already a member');
    }
    try {
      await members.save(members.create({ boardroomId: id, userId: input.userId, role: 'member' }));
    } catch (error) {
      // A concurrent add of the same member, or the user or boardroom deleted meanwhile: a 4xx, not a 500.
      if (pgCode(error) === UNIQUE_VIOLATION) throw new DomainError('E_CONFLICT', 'Already a member');
      if (pgCode(error) === FOREIGN_KEY_VIOLATION) throw DomainError.notFound('User or boardroom');
      throw error;
    }
    return this.load(id);
  }

  /** The owner (or an admin) removes a member; a member may leave. The owner cannot be removed. */
  async removeMember(caller: AuthenticatedUser, id: string, userId: string): Promise<void> {
    if (caller.id !== userId) await this.requireRole(caller, id, ['owner']);
    const members = this.db.getRepository(BoardroomMemberEntity);
    const member = await members.findOneBy({ boardroomId: id, userId });
    if (!member) throw DomainError.notFound('Member');
    if (member.role === 'owner') throw new DomainError('E_CONFLICT', 'The owner cannot leave; delete the boardroom');
    await members.remove(member);
  }

  /** Loads the boardroom view into the cache (admin warm-up). */
  warm(id: string): Promise<BoardroomView> {
    return this.load(id);
  }

  private async load(id: string): Promise<BoardroomView> {
    const boardroom = await this.qc.cached(BoardroomEntity).findOne({
      where: { id },
      relations: { members: { user: true } },
    });
    if (!boardroom) throw DomainError.notFound('Boardroom');
    return toBoardroomView(boardroom);
  }

  /**
   * Admins pass; others need one of `roles` in this boardroom. A non-member
   * gets 404, a member without the role 403. The membership read is cached
   * and invalidated like any other, but briefly: while Redis is down another
   * instance's L1 cannot hear that a member was removed, and an access check
   * must not stay open for the whole query TTL. Conversations use it too.
   */
  async requireRole(caller: AuthenticatedUser, id: string, roles: Array<'owner' | 'member'>): Promise<void> {
    if (caller.role === 'admin') return;
    const membership = await this.qc
      .cached(BoardroomMemberEntity, { ttl: MEMBERSHIP_TTL_MS })
      .findOneBy({ boardroomId: id, userId: caller.id });
    if (!membership) throw DomainError.notFound('Boardroom');
    if (!roles.includes(membership.role)) throw DomainError.forbidden('Only the owner may do this');
  }
}
