/** The code of the error a call gets while the gate is shut (`isDatabaseUnavailable` maps it to 503). */
export const DATABASE_GATE_CODE = 'E_DB_GATE_SHUT';

/** Consecutive failures after which the gate shuts. */
const DEFAULT_THRESHOLD = 3;
/** While shut, one call per this many ms goes through to find out whether Postgres answers again. */
const DEFAULT_RETRY_MS = 1_000;

/** The error of a call the gate did not let through. */
export class DatabaseGateShutError extends Error {
  readonly code = DATABASE_GATE_CODE;

  constructor() {
    super('Postgres did not answer the last calls: not asked again for a moment');
    this.name = 'DatabaseGateShutError';
  }
}

/**
 * A circuit breaker in front of one Postgres server. Each call already has a
 * deadline (connect, query); once `threshold` calls in a row have missed it
 * or found no server, the gate shuts and calls fail at once instead of each
 * waiting out the deadline again — a request that needs the database answers
 * 503 in microseconds while the cache keeps serving the others. While shut,
 * one call per `retryMs` goes through as a probe; any answer from the server
 * (an SQL error included) opens the gate again.
 */
export class DatabaseGate {
  private failures = 0;
  private retryAt = 0;

  constructor(
    private readonly threshold = DEFAULT_THRESHOLD,
    private readonly retryMs = DEFAULT_RETRY_MS,
  ) {}

  /** True while calls go through. */
  get open(): boolean {
    return this.failures < this.threshold;
  }

  /** Whether a call may go to the server now: always while open; while shut, one probe per `retryMs`. */
  admit(now = Date.now()): boolean {
    if (this.open) return true;
    if (now < this.retryAt) return false;
    this.retryAt = now + this.retryMs;
    return true;
  }

  /** The server answered. */
  answered(): void {
    this.failures = 0;
  }

  /** The server did not answer within the deadline, or could not be reached. */
  missed(now = Date.now()): void {
    this.failures++;
    if (this.failures === this.threshold) this.retryAt = now + this.retryMs;
  }
}

const gates = new Map<string, DatabaseGate>();

/** The gate of a server (one per host, port and database in this process). */
export function gateFor(server: { host?: string; port?: number; database?: string }): DatabaseGate {
  const key = `${server.host ?? ''}:${server.port ?? ''}/${server.database ?? ''}`;
  let gate = gates.get(key);
  if (!gate) gates.set(key, (gate = new DatabaseGate()));
  return gate;
}
