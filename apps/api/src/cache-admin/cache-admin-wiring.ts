import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { UserEntity } from '@app/auth';
import { CacheAdminHooks } from '@app/cache-admin';
import { QueryCache } from '@app/query-cache';
import { BoardroomsModule } from '../boardrooms/boardrooms.module';
import { BoardroomsService } from '../boardrooms/boardrooms.service';
import { DomainError } from '../common/domain.errors';
import { ConversationsModule } from '../conversations/conversations.module';
import { ConversationsService } from '../conversations/conversations.service';
import { UsersModule } from '../users/users.module';
import { UsersService } from '../users/users.service';

/** A warm-up that found nothing is `false` (the admin route's 404); anything else fails as it is. */
const found = async (load: () => Promise<unknown>): Promise<boolean> => {
  try {
    await load();
    return true;
  } catch (error) {
    if (error instanceof DomainError && error.code === 'E_NOT_FOUND') return false;
    throw error;
  }
};

/** Most conversations `POST /cache/warm/conversations/:userId` loads. */
const WARM_CONVERSATIONS = 20;

/**
 * Tells the cache admin API what the app's domain is: warmers for users,
 * boardrooms and a user's conversations, and how to drop a user's cached views.
 */
@Injectable()
export class CacheAdminWiring implements OnModuleInit {
  constructor(
    private readonly hooks: CacheAdminHooks,
    private readonly users: UsersService,
    private readonly boardrooms: BoardroomsService,
    private readonly conversations: ConversationsService,
    private readonly qc: QueryCache,
  ) {}

  onModuleInit(): void {
    this.hooks.registerWarmer('users', (id) => found(() => this.users.warm(id)));
    this.hooks.registerWarmer('boardrooms', (id) => found(() => this.boardrooms.warm(id)));
    this.hooks.registerWarmer('conversations', (userId) =>
      found(async () => {
        await this.users.warm(userId);
        await this.conversations.warmRecent(userId, WARM_CONVERSATIONS);
      }),
    );
    // The user's row: every cached read of it, and every response built on one.
    this.hooks.registerUserInvalidator((id) => this.qc.invalidate(UserEntity, [id]));
  }
}

/** The app's side of `CacheAdminModule`. */
@Module({
  imports: [UsersModule, BoardroomsModule, ConversationsModule],
  providers: [CacheAdminWiring],
})
export class CacheAdminWiringModule {}
