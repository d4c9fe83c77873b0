import { Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/**
 * The database as a Terminus result: `up` with `responseTime` when
 * `SELECT 1` answers within the deadline, `down` otherwise. Terminus's own
 * `TypeOrmHealthIndicator` puts the driver's message in the probe's body,
 * which anyone can read (`connect ECONNREFUSED 10.0.3.7:5432` names the
 * database host): here the body says only that the check failed or timed
 * out, and the driver's message goes to the log.
 */
@Injectable()
export class DatabaseHealthIndicator {
  private readonly logger = new Logger('DatabaseHealth');

  constructor(
    private readonly indicators: HealthIndicatorService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  ping<Key extends string>(key: Key, timeoutMs: number): PromiseLike<HealthIndicatorResult<Key>> {
    return this.indicators
      .check(key)
      .attempt(async () => {
        try {
          await this.db.query('SELECT 1');
        } catch (error) {
          this.logger.warn(`the readiness check of the database failed: ${String(error)}`);
          throw new Error('The database check failed');
        }
      })
      .withTimeout(timeoutMs);
  }
}
