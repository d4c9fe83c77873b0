import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../apps/api/src/bootstrap';
import { createTestDatabase } from './postgres';

/** An in-process app for e2e specs (`app.inject`), and how to dispose of it with its database. */
export interface E2eApp {
  app: NestFastifyApplication;
  close(): Promise<void>;
}

/**
 * The app as `createApp` builds it, on a throw-away Postgres database, with
 * no Redis, silent logs and no `.env`; `env` adds or overrides variables.
 * The heap check would measure the Jest worker (every module of the test files
 * it ran before), not the app, so its ceiling is lifted.
 */
export async function startE2eApp(env: Record<string, string | undefined> = {}): Promise<E2eApp> {
  const db = await createTestDatabase();
  const app = await createApp({
    ignoreEnvFile: true,
    env: { DATABASE_URL: db.url, REDIS_URL: undefined, LOG_LEVEL: 'silent', HEALTH_MAX_HEAP_MB: '65536', ...env },
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
}
