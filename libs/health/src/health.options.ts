/** Options of `HealthModule`. */
export interface HealthModuleOptions {
  /**
   * When true (`CACHE_BACKEND=redis`), a Redis outage makes `/health/ready`
   * fail; otherwise it is reported as degraded and readiness holds.
   * @default false
   */
  redisRequired?: boolean;
  /**
   * `/health/ready` fails when the V8 heap exceeds this many bytes.
   * @default 1 GiB
   */
  maxHeapBytes?: number;
  /**
   * Deadline of the database ping, in milliseconds.
   * @default 1500
   */
  databaseTimeoutMs?: number;
}
