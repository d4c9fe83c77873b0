import { Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import { DatabaseHealthIndicator } from './database.health';

const indicator = (query: () => Promise<unknown>) =>
  new DatabaseHealthIndicator(new HealthIndicatorService(), { query } as unknown as DataSource);

describe('DatabaseHealthIndicator', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is up with its response time when SELECT 1 answers', async () => {
    const result = await indicator(() => Promise.resolve([{ '?column?': 1 }])).ping('database', 1_000);
    expect(result).toEqual({ database: { status: 'up', responseTime: expect.any(Number) } });
  });

  it("is down without the driver's message in the body, which names the host; the log has it", async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const refused = () => Promise.reject(new Error('connect ECONNREFUSED 10.0.3.7:5432'));
    const result = await indicator(refused).ping('database', 1_000);
    expect(result).toEqual({
      database: { status: 'down', message: 'The database check failed', responseTime: expect.any(Number) },
    });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('connect ECONNREFUSED 10.0.3.7:5432'));
  });

  it('is down, saying so, when the database does not answer within the deadline', async () => {
    const result = await indicator(() => new Promise(() => undefined)).ping('database', 20);
    expect(result.database).toMatchObject({ status: 'down', message: 'timeout of 20ms exceeded' });
  });
});
