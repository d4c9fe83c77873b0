import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { getOptionsToken, getStorageToken } from '@nestjs/throttler';
import { AuthConfigurableModule } from './auth.module-definition';
import { authProviders } from './auth.providers';
import { AuthService } from './auth.service';
import { RefreshRotationEntity } from './entities/refresh-rotation.entity';
import { RevocationEntity } from './entities/revocation.entity';
import { SessionEntity } from './entities/session.entity';
import { UserEntity } from './entities/user.entity';
import { AUTH_REFLECTOR } from './auth.constants';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { RolesGuard } from './guards/roles.guard';
import { RevocationService } from './revocation/revocation.service';
import { SessionService } from './sessions/session.service';
import { LoginLimiter } from './throttle/login-limiter.service';
import { RateLimitGuard } from './throttle/rate-limit.guard';
import { SharedThrottlerStorage } from './throttle/shared-throttler.storage';
import { AccessTokenService } from './tokens/access-token.service';
import { PasswordHasher } from './users/password-hasher';
import { UserAccountsService } from './users/user-accounts.service';

/**
 * Accounts, JWT access tokens, refresh sessions, revocation and rate limits.
 * Needs TypeORM (the tables come from the app's migrations) and, optionally,
 * `RedisModule`. The app registers the exported guards globally, in order:
 * `JwtAuthGuard`, `RolesGuard`, `RateLimitGuard`.
 */
@Module({
  imports: [TypeOrmModule.forFeature([UserEntity, SessionEntity, RefreshRotationEntity, RevocationEntity])],
  providers: [
    ...authProviders,
    AccessTokenService,
    AuthService,
    JwtAuthGuard,
    LoginLimiter,
    PasswordHasher,
    RateLimitGuard,
    SharedThrottlerStorage,
    RevocationService,
    RolesGuard,
    SessionService,
    UserAccountsService,
  ],
  exports: [
    AccessTokenService,
    AuthService,
    JwtAuthGuard,
    RateLimitGuard,
    RevocationService,
    RolesGuard,
    SessionService,
    UserAccountsService,
    getOptionsToken(),
    getStorageToken(),
    // What `RolesGuard` needs where another module puts it on a controller itself (`@UseGuards`).
    AUTH_REFLECTOR,
  ],
})
export class AuthModule extends AuthConfigurableModule {}
