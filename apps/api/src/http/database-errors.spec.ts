import { Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ArgumentsHost } from '@nestjs/common';
import { createServer } from 'node:net';
import { Client } from 'pg';
import { QueryFailedError } from 'typeorm';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { isDatabaseUnavailable } from './database-errors';

/** The error `pg` raises when nothing listens on the port. */
async function refusedConnection(): Promise<Error> {
  const server = createServer();
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  await new Promise((resolve) => server.close(resolve));
  const client = new Client({ host: '127.0.0.1', port, user: 'nobody', password: 'secret-password' });
  return client.connect().then(
    () => new Error('connected?'),
    (error: Error) => error,
  );
}

const sqlError = (code: string, message: string) =>
  new QueryFailedError('SELECT 1', [], Object.assign(new Error(message), { code }));

describe(isDatabaseUnavailable.name, () => {
  it('recognizes a refused connection, a terminated backend and pg pool timeouts', async () => {
    expect(isDatabaseUnavailable(await refusedConnection())).toBe(true);
    expect(isDatabaseUnavailable(sqlError('57P01', 'terminating connection due to administrator command'))).toBe(true);
    expect(isDatabaseUnavailable(sqlError('08006', 'connection failure'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('recognizes the query deadlines: the client-side one and the server-side statement_timeout', () => {
    expect(isDatabaseUnavailable(new QueryFailedError('SELECT 1', [], new Error('Query read timeout')))).toBe(true);
    expect(isDatabaseUnavailable(sqlError('57014', 'canceling statement due to statement timeout'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Client was closed and is not queryable'))).toBe(true);
  });

  it('leaves query errors alone', () => {
    expect(isDatabaseUnavailable(sqlError('23505', 'duplicate key value violates unique constraint'))).toBe(false);
    expect(isDatabaseUnavailable(sqlError('42P01', 'relation "x" does not exist'))).toBe(false);
    expect(isDatabaseUnavailable(new Error('something else'))).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });
});

describe('AllExceptionsFilter and an unreachable database', () => {
  it('answers 503 with the contract body, naming no host, user or password', async () => {
    const replies: Array<{ body: unknown; status: number }> = [];
    const adapterHost = {
      httpAdapter: { reply: (_: unknown, body: unknown, status: number) => replies.push({ body, status }) },
    };
    const filter = new AllExceptionsFilter(adapterHost as unknown as HttpAdapterHost);
    const host = {
      switchToHttp: () => ({ getResponse: () => ({}), getRequest: () => ({ id: 'req-1' }) }),
    } as unknown as ArgumentsHost;

    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      filter.catch(await refusedConnection(), host);
      filter.catch(sqlError('23505', 'duplicate key'), host);
      // The log lines name the request (there is no request-scoped logger to do it).
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^request req-1: database unavailable/));
      expect(error).toHaveBeenCalledWith(expect.stringMatching(/^request req-1: /));
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }

    expect(replies[0]).toEqual({
      status: 503,
      body: { statusCode: 503, error: 'Service Unavailable', message: 'The database is unavailable; retry later' },
    });
    expect(JSON.stringify(replies[0].body)).not.toMatch(/127\.0\.0\.1|nobody|secret-password/);
    expect(replies[1].status).toBe(500);
  });
});
