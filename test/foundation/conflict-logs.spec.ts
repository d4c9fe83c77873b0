import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from '../support/app-process';
import { waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

/** pino's numeric levels. */
const DEBUG = 20;
const WARN = 40;

describe('logs of an expected conflict (409)', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-conflict-logs-'));
  let db: TestDatabase;
  let app: AppProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await AppProcess.start(
      { DATABASE_URL: db.url, CACHE_BACKEND: 'memory', LOG_LEVEL: 'debug', HTTP_LOG: 'true' },
      cwd,
    );
  });

  afterAll(async () => {
    await app?.stop();
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  const linesSince = (offset: number) =>
    app.output
      .slice(offset)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg?: string; context?: string; statusCode?: number });

  it('are at most debug, and carry neither the SQL nor its parameters', async () => {
    const email = 'taken.address@example.com';
    const body = { email, password: 'correct horse battery', name: 'Taken' };
    expect((await app.send('POST', '/api/v1/auth/register', { body })).status).toBe(201);
    const other = await app.send('POST', '/api/v1/auth/register', { body: { ...body, email: 'other@example.com' } });
    const login = await app.send('POST', '/api/v1/auth/login', {
      body: { email: 'other@example.com', password: body.password },
    });
    await waitFor(() => linesSince(0).some((l) => l.statusCode === 200), 5_000, 'the login to be logged');

    const offset = app.output.length;
    const again = await app.send('POST', '/api/v1/auth/register', { body });
    expect(again.status).toBe(409);
    // Taking an email that is in use through PATCH is the same conflict (a unique violation turned 409).
    const patch = await app.send('PATCH', `/api/v1/users/${other.body.id}`, {
      token: login.body.accessToken,
      body: { email },
    });
    expect(patch.status).toBe(409);
    // The request log lines of both requests are written (batched) before the lines are read.
    await waitFor(
      () => linesSince(offset).filter((l) => l.statusCode === 409).length === 2,
      5_000,
      'the request lines',
    );

    const lines = linesSince(offset);
    const text = app.output.slice(offset);
    expect(lines.filter((l) => l.level >= WARN)).toEqual([]);
    expect(text).not.toMatch(/INSERT INTO|UPDATE "users"|SELECT /);
    expect(text).not.toContain(email);
    expect(text).not.toContain('$argon2');
    // Still visible at debug, by its SQLSTATE and constraint.
    expect(lines.some((l) => l.level === DEBUG && l.context === 'TypeORM' && l.msg?.includes('23505'))).toBe(true);
  });
});
