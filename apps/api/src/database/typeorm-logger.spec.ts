import { Logger } from '@nestjs/common';
import { TypeOrmLogger } from './typeorm-logger';

const pgError = (message: string, fields: Record<string, string>) => Object.assign(new Error(message), fields);
const SQL = 'INSERT INTO "users"("email", "password_hash") VALUES ($1, $2)';

describe(TypeOrmLogger.name, () => {
  let calls: Record<'debug' | 'warn' | 'error', string[]>;

  beforeEach(() => {
    calls = { debug: [], warn: [], error: [] };
    for (const level of ['debug', 'warn', 'error'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
        calls[level].push(String(args[0]));
      });
    }
  });
  afterEach(() => jest.restoreAllMocks());

  it('logs a constraint violation (a 409 or 404 to be) at debug, by SQLSTATE and constraint, without SQL or detail', () => {
    const error = pgError('duplicate key value violates unique constraint "users_email_lower_key"', {
      code: '23505',
      constraint: 'users_email_lower_key',
      detail: 'Key (lower(email))=(someone@example.com) already exists.',
    });
    new TypeOrmLogger().logQueryError(error, SQL);
    new TypeOrmLogger().logQueryError(pgError('insert or update violates foreign key', { code: '23503' }), SQL);
    expect(calls.error).toEqual([]);
    expect(calls.warn).toEqual([]);
    expect(calls.debug).toEqual([
      'query rejected by a constraint: SQLSTATE 23505 (users_email_lower_key)',
      'query rejected by a constraint: SQLSTATE 23503',
    ]);
  });

  it('logs an unreachable database at warn and any other failure at error, with the SQL but never the parameters', () => {
    const logger = new TypeOrmLogger();
    logger.logQueryError(new Error('Query read timeout'), SQL);
    logger.logQueryError(pgError('column "x" does not exist', { code: '42703' }), SQL);
    expect(calls.warn).toEqual([`Query read timeout — ${SQL}`]);
    expect(calls.error).toEqual([`column "x" does not exist — ${SQL}`]);
  });
});
