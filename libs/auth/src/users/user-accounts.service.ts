import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AUTH_OPTIONS } from '../auth.module-definition';
import { resolveAuthOptions, type AuthModuleOptions } from '../auth.options';
import { AuthError } from '../auth.errors';
import { UserEntity } from '../entities/user.entity';
import { pgCode, UNIQUE_VIOLATION } from '../postgres-errors';
import { SessionService } from '../sessions/session.service';
import { PasswordHasher } from './password-hasher';

/** Registration input; the role is never taken from the client. */
export interface NewAccount {
  email: string;
  name: string;
  password: string;
}

/** The one form of an email the accounts store and look up (and the login throttle counts by). */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** Accounts: register, check credentials, bootstrap the admin. */
@Injectable()
export class UserAccountsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UserAccountsService.name);

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    @Inject(AUTH_OPTIONS) private readonly options: AuthModuleOptions,
  ) {}

  async register(input: NewAccount): Promise<UserEntity> {
    const passwordHash = await this.hasher.hash(input.password);
    try {
      return await this.users.save(
        this.users.create({ email: normalizeEmail(input.email), name: input.name.trim(), role: 'user', passwordHash }),
      );
    } catch (error) {
      if (pgCode(error) === UNIQUE_VIOLATION)
        throw new AuthError('E_AUTH_EMAIL_TAKEN', 'An account with this email exists');
      throw error;
    }
  }

  /** The user for these credentials; one message for an unknown email and a wrong password. */
  async verifyCredentials(email: string, password: string): Promise<UserEntity> {
    const user = await this.findByEmail(email, true);
    const ok = user ? await this.hasher.verify(user.passwordHash, password) : await this.hasher.verifyUnknown(password);
    if (!user || !ok) throw new AuthError('E_AUTH_INVALID_CREDENTIALS', 'Invalid email or password');
    return user;
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
  }

  private findByEmail(email: string, withHash = false): Promise<UserEntity | null> {
    const query = this.users.createQueryBuilder('u').where('lower(u.email) = :email', { email: normalizeEmail(email) });
    if (withHash) query.addSelect('u.passwordHash');
    return query.getOne();
  }

  /**
   * `ADMIN_EMAIL`/`ADMIN_PASSWORD`: creates the admin, or makes the existing
   * account admin with that password. Several instances may boot at once:
   * the one that loses the insert race takes the account over instead.
   */
  async onApplicationBootstrap(): Promise<void> {
    const admin = resolveAuthOptions(this.options).admin;
    if (!admin) return;
    const existing = await this.findByEmail(admin.email, true);
    if (existing) {
      await this.makeAdmin(existing, admin.password);
    } else {
      const passwordHash = await this.hasher.hash(admin.password);
      try {
        await this.users.save(
          this.users.create({ email: normalizeEmail(admin.email), name: 'Administrator', role: 'admin', passwordHash }),
        );
      } catch (error) {
        if (pgCode(error) !== UNIQUE_VIOLATION) throw error;
        const created = await this.findByEmail(admin.email, true);
        if (created) await this.makeAdmin(created, admin.password);
      }
    }
    this.logger.log('admin account ensured');
  }

  /**
   * Gives the account the admin role and password. Unless it already had
   * both, its sessions end: they belong to whoever held the account before
   * (anyone could have registered the admin's email first), and a refresh
   * would otherwise hand them an admin token.
   */
  private async makeAdmin(user: UserEntity, password: string): Promise<void> {
    if (user.role === 'admin' && (await this.hasher.verify(user.passwordHash, password))) return;
    await this.users.update({ id: user.id }, { role: 'admin', passwordHash: await this.hasher.hash(password) });
    await this.sessions.endAll(user.id);
  }
}
