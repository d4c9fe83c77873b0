import { Injectable, Logger } from '@nestjs/common';
import { AuthError } from './auth.errors';
import { toPublicUser, type PublicUser } from './entities/user.entity';
import { RevocationService } from './revocation/revocation.service';
import { SessionService } from './sessions/session.service';
import { LoginLimiter } from './throttle/login-limiter.service';
import type { SessionMeta } from './sessions/session-view';
import type { AuthenticatedUser, TokenPair } from './tokens/access-token.claims';
import { AccessTokenService } from './tokens/access-token.service';
import { UserAccountsService, type NewAccount } from './users/user-accounts.service';

/** A jti revocation outlives the token's `exp` by this margin (clock skew between instances). */
const SKEW_MS = 60_000;

/** Told of a successful login's user id, after the login has answered. */
export type LoginListener = (userId: string) => void | Promise<void>;

/** The auth use cases behind the routes: register, login, refresh, logout, logout-all, me. */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly loginListeners: LoginListener[] = [];

  constructor(
    private readonly accounts: UserAccountsService,
    private readonly sessions: SessionService,
    private readonly tokens: AccessTokenService,
    private readonly revocations: RevocationService,
    private readonly limiter: LoginLimiter,
  ) {}

  async register(input: NewAccount): Promise<PublicUser> {
    return toPublicUser(await this.accounts.register(input));
  }

  /**
   * Checks the credentials, opens a session, then reads the user again for
   * the token's role. The second read comes after the session exists, so a
   * role change or a deletion racing this login either shows in that read or
   * finds the session and revokes it: a demoted admin never gets a fresh
   * admin token from a login that checked the password before the demotion.
   *
   * The failure limits (`LoginLimiter`) admit the attempt first (429
   * `E_AUTH_THROTTLED` otherwise, whether or not the account exists); a
   * right password resets this address's count for the email, a wrong one
   * (or an unknown email) stays counted, and an attempt that failed for
   * another reason (the database) is given back.
   */
  async login(email: string, password: string, meta: SessionMeta): Promise<TokenPair> {
    const attempt = await this.limiter.begin(email, meta.ip);
    let verified: Awaited<ReturnType<UserAccountsService['verifyCredentials']>>;
    try {
      verified = await this.accounts.verifyCredentials(email, password);
    } catch (error) {
      if (!(error instanceof AuthError && error.code === 'E_AUTH_INVALID_CREDENTIALS')) await attempt.released();
      throw error;
    }
    await attempt.succeeded();
    const { session, refreshToken } = await this.sessions.create(verified.id, meta);
    const user = await this.accounts.findById(verified.id);
    if (!user) throw new AuthError('E_AUTH_INVALID_CREDENTIALS', 'Invalid email or password');
    const pair = this.pair(this.tokens.sign(user.id, user.role, session.id), refreshToken);
    this.announceLogin(user.id);
    return pair;
  }

  /**
   * Calls `listener` after every successful login (warming the user's data):
   * on a later turn, so it never delays the login, and its failure is logged,
   * never the login's.
   */
  onLogin(listener: LoginListener): void {
    this.loginListeners.push(listener);
  }

  private announceLogin(userId: string): void {
    for (const listener of this.loginListeners) {
      setImmediate(() => {
        Promise.resolve()
          .then(() => listener(userId))
          .catch((error: unknown) => this.logger.warn(`a login listener failed: ${String(error)}`));
      });
    }
  }

  /** A new pair for a refresh token; the role is read again, so a role change applies at the next refresh. */
  async refresh(refreshToken: string, meta: SessionMeta): Promise<TokenPair> {
    const rotated = await this.sessions.rotate(refreshToken, meta);
    const user = await this.accounts.findById(rotated.session.userId);
    if (!user) throw new AuthError('E_AUTH_REFRESH_INVALID', 'Invalid refresh token');
    return this.pair(this.tokens.sign(user.id, user.role, rotated.session.id), rotated.refreshToken);
  }

  /** Revokes this access token and ends its session (and so every token of that session). */
  async logout(caller: AuthenticatedUser): Promise<void> {
    await this.revokeToken(caller);
    await this.sessions.endOwn(caller.id, caller.sid).catch((error: unknown) => {
      // Already ended (a second logout, or a session ended elsewhere): the token is revoked all the same.
      if (!(error instanceof AuthError && error.code === 'E_AUTH_SESSION_NOT_FOUND')) throw error;
    });
  }

  /** Revokes every token and ends every session of the caller. */
  async logoutAll(caller: AuthenticatedUser): Promise<void> {
    await this.revokeToken(caller);
    await this.sessions.endAll(caller.id);
  }

  private revokeToken(caller: AuthenticatedUser): Promise<void> {
    return this.revocations.revoke([{ kind: 'jti', subject: caller.jti, expiresAt: caller.exp * 1000 + SKEW_MS }]);
  }

  private pair(accessToken: string, refreshToken: string): TokenPair {
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: this.tokens.ttlSeconds };
  }
}
