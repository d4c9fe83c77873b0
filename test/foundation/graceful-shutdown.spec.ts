import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from '../support/app-process';
import { TestRedisServer } from '../support/redis-server';

describe('graceful shutdown', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-shutdown-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('finishes a request in flight when SIGTERM arrives, then exits 0', async () => {
    const redis = await TestRedisServer.start();
    const app = await AppProcess.start({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '1500' }, cwd);
    try {
      // A paused Redis makes /health/redis wait for its 1.5 s deadline: a slow request to be in flight.
      redis.pause();
      const inFlight = app.get('/health/redis', 10_000);
      await new Promise((r) => setTimeout(r, 300));
      const exited = app.stop();
      const response = await inFlight;
      expect(response.status).toBe(503);
      expect(response.body.details.redis.status).toBe('down');
      redis.resume();
      expect(await exited).toBe(0);
    } finally {
      redis.resume();
      await app.stop();
      await redis.stop();
    }
  });
});
