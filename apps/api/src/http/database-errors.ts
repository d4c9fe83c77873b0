import { DATABASE_GATE_CODE } from '../database/database-gate';

/**
 * Whether an error means the database could not be reached (or refused new
 * work), as opposed to a query it rejected: a dependency outage, which the
 * client may retry, is a 503, not a 500.
 *
 * - socket errors of the `pg` driver (`ECONNREFUSED`, `ECONNRESET`, …);
 * - SQLSTATE class 08 (connection exception), 57P01–57P03 (shutdown,
 *   crash, cannot connect now), 57014 (statement cancelled: the
 *   server's `statement_timeout`) and 53300 (too many connections), also
 *   when wrapped in TypeORM's `QueryFailedError` (`driverError`);
 * - `pg`'s pool and client messages that carry no code, the client-side
 *   query deadline's included.
 */
export function isDatabaseUnavailable(exception: unknown): boolean {
  // Duck-typed: errors of Node's own modules may come from another realm (Jest's VM), where `instanceof Error` fails.
  let error: unknown = exception;
  for (let depth = 0; typeof error === 'object' && error !== null && depth < 4; depth++) {
    const { code, message, driverError, cause } = error as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATES.test(code))) return true;
    if (typeof message === 'string' && PG_MESSAGES.some((m) => message.includes(m))) return true;
    error = driverError ?? cause;
  }
  return false;
}

const NETWORK_CODES = new Set([
  DATABASE_GATE_CODE,
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const SQLSTATES = /^(08[0-9A-Z]{3}|57P0[1-3]|57014|53300)$/;
const PG_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Query read timeout',
  'Cannot use a pool after calling end on the pool',
];
