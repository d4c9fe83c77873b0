import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLoggerContract } from 'typeorm';
import { isDatabaseUnavailable } from '../http/database-errors';

/** SQLSTATE class 23, integrity constraint violation: unique, foreign key, not null, check, exclusion. */
const INTEGRITY_CONSTRAINT = /^23[0-9A-Z]{3}$/;

/**
 * Sends TypeORM's errors, warnings and migration messages to the app's logger (JSON); queries are not logged.
 * Query parameters never are (they may carry secrets and personal data: password hashes, tokens, emails).
 *
 * A failed query is logged by what it means:
 * - a constraint violation (SQLSTATE class 23) is an expected outcome the
 *   services turn into a 409 or a 404 (an email that is taken, a member
 *   added twice): `debug`, by SQLSTATE and constraint only, without the SQL
 *   or the driver's detail (which quotes the offending values);
 * - an unreachable or hung database: `warn` (the request's 503 is logged too);
 * - anything else is a bug or a schema problem: `error`, with the SQL text.
 */
export class TypeOrmLogger implements TypeOrmLoggerContract {
  private readonly logger = new NestLogger('TypeORM');

  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    const { code, constraint } = driverFields(error);
    if (code && INTEGRITY_CONSTRAINT.test(code)) {
      this.logger.debug(`query rejected by a constraint: SQLSTATE ${code}${constraint ? ` (${constraint})` : ''}`);
      return;
    }
    const message = error instanceof Error ? error.message : error;
    if (isDatabaseUnavailable(error)) this.logger.warn(`${message} — ${query}`);
    else this.logger.error(`${message} — ${query}`);
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`slow query (${time} ms): ${query}`);
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.debug(String(message));
  }
}

/** The SQLSTATE and constraint name of a `pg` error (TypeORM hands the driver's error over as is). */
function driverFields(error: string | Error): { code?: string; constraint?: string } {
  if (typeof error === 'string') return {};
  const { code, constraint } = error as Error & { code?: unknown; constraint?: unknown };
  return {
    code: typeof code === 'string' ? code : undefined,
    constraint: typeof constraint === 'string' ? constraint : undefined,
  };
}
