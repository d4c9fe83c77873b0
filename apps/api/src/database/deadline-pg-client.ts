import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { isDatabaseUnavailable } from '../http/database-errors';
import { DATABASE_GATE_CODE, DatabaseGateShutError, gateFor } from './database-gate';

/** The message of `pg`'s error for a query that missed its `query_timeout` (it has no code). */
export const QUERY_READ_TIMEOUT_MESSAGE = 'Query read timeout';

const logger = new Logger('Database');

/**
 * The `pg` client of the pool (`Pool`'s `Client` option): a client whose
 * query misses its client-side deadline (`query_timeout`) closes its
 * connection.
 *
 * `pg` rejects such a query but leaves it the connection's active query:
 * the connection is still waiting for an answer that a hung server or a lost
 * network will never send, so every later query on it would queue behind
 * the dead one. TypeORM releases the connection to the pool without an
 * error, so the pool would hand it out again. Ending it here (`end()`
 * destroys the socket of a client with an active query) runs before
 * TypeORM's release, which then sees an ending client and removes it from
 * the pool. A statement the server cancels itself (`statement_timeout`,
 * SQLSTATE 57014) leaves a healthy connection and is not affected.
 *
 * Covers the promise and callback forms of `query()` (all TypeORM and
 * Terminus use); a `Submittable` (cursor, stream) is passed through as is.
 */
export class DeadlinePgClient extends Client {
  /** The server's gate: consecutive misses shut it, and calls then fail at once (see `DatabaseGate`). */
  private readonly gate = gateFor(this);

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's connect() has two overloads; this only gates and observes it.
  override connect(...args: any[]): any {
    const callback = args[0] as ((error?: Error) => void) | undefined;
    if (!this.gate.admit()) {
      const error = new DatabaseGateShutError();
      if (!callback) return Promise.reject(error);
      process.nextTick(() => callback(error));
      return undefined;
    }
    const connect = super.connect.bind(this) as (done: (error?: Error) => void) => void;
    if (callback) {
      connect((error) => {
        this.observe(error);
        callback(error);
      });
      return undefined;
    }
    return new Promise<void>((resolve, reject) =>
      connect((error) => {
        this.observe(error);
        if (error) reject(error);
        else resolve();
      }),
    );
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's query() has eight overloads; this only observes the outcome.
  override query(...args: any[]): any {
    const last: unknown = args[args.length - 1];
    // A ROLLBACK always goes through: refusing it would put a connection back in the pool mid-transaction.
    if (!endsTransaction(args[0]) && !this.gate.admit()) {
      const error = new DatabaseGateShutError();
      if (typeof last !== 'function') return Promise.reject(error);
      process.nextTick(() => {
        Reflect.apply(last, undefined, [error]);
      });
      return undefined;
    }
    if (typeof last === 'function') {
      args[args.length - 1] = (error: unknown, ...rest: unknown[]) => {
        this.observe(error);
        this.dropIfTimedOut(error);
        return Reflect.apply(last, undefined, [error, ...rest]) as unknown;
      };
    }
    const query = super.query.bind(this) as (...queryArgs: unknown[]) => unknown;
    const result = query(...(args as unknown[]));
    // Registered before the caller's own handlers, so the client is ending before TypeORM releases it.
    if (isPromise(result))
      result.then(
        () => this.observe(undefined),
        (error: unknown) => {
          this.observe(error);
          this.dropIfTimedOut(error);
        },
      );
    return result;
  }

  /**
   * Tells the gate whether the server answered. A missed deadline, a lost or
   * refused connection is a miss; any reply is an answer, an SQL error and a
   * statement the server cancelled itself (`statement_timeout`, 57014: a slow
   * server, not an absent one) or refused for lack of connections (53300)
   * included. A call the gate refused says nothing.
   */
  private observe(error: unknown): void {
    if (!error) return this.gate.answered();
    const code = (error as { code?: unknown }).code;
    if (code === DATABASE_GATE_CODE) return;
    if (code !== '57014' && code !== '53300' && isDatabaseUnavailable(error)) this.gate.missed();
    else this.gate.answered();
  }

  private dropIfTimedOut(error: unknown): void {
    if (!(error instanceof Error) || error.message !== QUERY_READ_TIMEOUT_MESSAGE) return;
    logger.warn('a query got no answer within the client deadline: closing its connection');
    this.end().catch(() => undefined);
  }
}

function isPromise(value: unknown): value is Promise<unknown> {
  return (
    typeof (value as Promise<unknown> | undefined)?.then === 'function' &&
    typeof (value as Promise<unknown>).catch === 'function'
  );
}

/** True for the statement that ends a failed transaction (text or `{ text }`). */
function endsTransaction(query: unknown): boolean {
  const text = typeof query === 'string' ? query : (query as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' && /^\s*ROLLBACK\b/i.test(text);
}
