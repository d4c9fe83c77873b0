import { AsyncResource } from 'node:async_hooks';

/**
 * Runs code in the async context its owner was created in (at boot), not in
 * the context of whoever calls: for timers, probes and state events that a
 * request may happen to start. A timer keeps the async context it was
 * created in, so a breaker probe armed inside the request whose call tripped
 * the breaker would run, and log, as that request for as long as it ticks —
 * with any AsyncLocalStorage-based logger (nestjs-pino, OpenTelemetry) the
 * "breaker closed" line would carry that request's id. Without such a
 * logger this costs nothing measurable: it runs only on state changes.
 */
export class BackgroundScope {
  private readonly resource: AsyncResource;

  constructor(name: string) {
    this.resource = new AsyncResource(name);
  }

  /** Calls `fn` in the owner's context; timers and promises it starts stay in that context. */
  run<T>(fn: () => T): T {
    return this.resource.runInAsyncScope(fn);
  }
}
