import type { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';

/**
 * Nest's `RoutesResolver` logs each controller as `Name {/api/v1/path}:` with
 * the global prefix even when the controller's routes are excluded from it
 * (`/health/*`, `/metrics`, `/admin`). The `Mapped {/path, GET} route` lines
 * that follow carry each route's real path, so the controller line keeps
 * only the name rather than print a path nothing serves.
 */
export const controllerLine = (message: string): string => message.replace(/^(\S+) \{[^}]*\}:$/, '$1:');

/** Nest's log levels mapped onto pino's. */
const LEVELS = { log: 'info', error: 'error', warn: 'warn', debug: 'debug', verbose: 'trace', fatal: 'fatal' } as const;

/**
 * Nest's `LoggerService` over one pino logger: Nest's own messages and every
 * `new Logger(context)` in the code base become JSON lines with a `context`
 * field. No request-scoped child logger and no AsyncLocalStorage: a line
 * about a request names its request id itself (the request log and the
 * exception filter do).
 */
export class PinoLoggerService implements LoggerService {
  constructor(readonly pino: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write(LEVELS.log, message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write(LEVELS.error, message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write(LEVELS.warn, message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write(LEVELS.debug, message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write(LEVELS.verbose, message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write(LEVELS.fatal, message, params);
  }

  /** Nest passes `(message, context)`, and `(message, stack, context)` for errors. */
  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    const last = params.length > 0 ? params[params.length - 1] : undefined;
    if (typeof last === 'string') fields.context = last;
    if (last === 'RoutesResolver' && typeof message === 'string') message = controllerLine(message);
    const stack = params.length > 1 ? params[0] : undefined;
    if (typeof stack === 'string') fields.stack = stack;
    if (message instanceof Error) {
      fields.err = message;
      this.pino[level](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...message });
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
