import type { Repository } from 'typeorm';
import type { UserEntity } from '../entities/user.entity';
import type { SessionService } from '../sessions/session.service';
import { PasswordHasher } from './password-hasher';
import { UserAccountsService } from './user-accounts.service';

/** A users table holding one account, looked up by email as the service does. */
function table(known: Partial<UserEntity>) {
  const query = (found: Partial<UserEntity> | null) => ({
    addSelect: () => query(found),
    getOne: () => Promise.resolve(found),
  });
  return {
    createQueryBuilder: () => ({
      where: (_sql: string, { email }: { email: string }) => query(email === known.email ? known : null),
    }),
  } as unknown as Repository<UserEntity>;
}

describe(UserAccountsService.name, () => {
  it('spends one argon2 verification on an unknown email, as on a wrong password, and answers the same', async () => {
    const hasher = new PasswordHasher();
    const verify = jest.spyOn(hasher, 'verify');
    const known = { id: 'u1', email: 'ada@example.com', passwordHash: await hasher.hash('the password') };
    const accounts = new UserAccountsService(table(known), hasher, {} as SessionService, { jwt: {} });

    const wrong = await accounts.verifyCredentials('ada@example.com', 'a guess').catch((e: unknown) => e);
    const unknown = await accounts.verifyCredentials('nobody@example.com', 'a guess').catch((e: unknown) => e);

    expect(unknown).toEqual(wrong);
    expect(unknown).toMatchObject({ code: 'E_AUTH_INVALID_CREDENTIALS' });
    // The unknown email was checked against an argon2id hash too, not answered at once.
    expect(verify).toHaveBeenCalledTimes(2);
    expect(verify).toHaveBeenLastCalledWith(expect.stringMatching(/^\$argon2id\$/), 'a guess');
  });
});
