import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../apps/api/src/bootstrap';
import { AuthClient } from './auth-client';
import { uniquePrefix } from './cache-instance';
import { createTestDatabase, type TestDatabase } from './postgres';
import { TestRedisServer } from './redis-server';

/** One in-process app instance for auth tests, built as `main.ts` builds it, with a client. */
export interface AuthInstance {
  app: NestFastifyApplication;
  client: AuthClient;
}

/**
 * Creates (and, unless `init` is false, initialises) an app instance on `env`.
 * Without Redis unless `env` names one: a `REDIS_URL` in the shell must not
 * point a test at a shared server.
 */
export async function startAuthInstance(env: Record<string, string | undefined>, init = true): Promise<AuthInstance> {
  const app = await createApp({ ignoreEnvFile: true, env: { LOG_LEVEL: 'silent', REDIS_URL: undefined, ...env } });
  if (init) {
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  }
  return { app, client: new AuthClient(app) };
}

/** Two app instances sharing a throw-away database and a Redis server of the test's own. */
export interface AuthPair {
  db: TestDatabase;
  redis: TestRedisServer;
  /** The environment both instances run with (to start more alike). */
  env: Record<string, string>;
  a: AuthInstance;
  b: AuthInstance;
  close(): Promise<void>;
}

/** Starts an `AuthPair`; `env` is added to the database, Redis and a fresh cache prefix. */
export async function startAuthPair(env: Record<string, string> = {}): Promise<AuthPair> {
  const [db, redis] = await Promise.all([createTestDatabase(), TestRedisServer.start()]);
  const shared = { DATABASE_URL: db.url, REDIS_URL: redis.url, CACHE_PREFIX: uniquePrefix(), ...env };
  const started: AuthInstance[] = [];
  const close = async () => {
    for (const instance of started) await instance.app.close();
    await redis.stop();
    await db.drop();
  };
  try {
    started.push(await startAuthInstance(shared));
    started.push(await startAuthInstance(shared));
  } catch (error) {
    await close();
    throw error;
  }
  return { db, redis, env: shared, a: started[0], b: started[1], close };
}

/** A call to the API of `instance` under `/api/v1`, with a bearer token. */
export const apiCall = (
  instance: AuthInstance,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  token: string,
  body?: unknown,
) => instance.client.request(method, `/api/v1${url}`, { token, body });
