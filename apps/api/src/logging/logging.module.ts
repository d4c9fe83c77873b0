import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import pino from 'pino';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.constants';
import { BatchedDestination } from './batched-destination';
import { PinoLoggerService } from './pino-logger.service';

/** DI token of the app's pino logger (the one `PinoLoggerService` writes to). */
export const APP_PINO = 'APP:PINO';
/** DI token of the destination every log line goes to (pino's, and the request log's). */
export const APP_LOG_DESTINATION = 'APP:LOG_DESTINATION';

/**
 * Structured JSON logs on stdout (pino), written in batches (one write per
 * 64 KiB or 50 ms, flushed at exit: see `BatchedDestination`), so a request
 * pays for serializing its line, not for a write. Fields that may hold
 * credentials are redacted by pino's redaction, compiled once.
 */
@Global()
@Module({
  providers: [
    { provide: APP_LOG_DESTINATION, useFactory: () => new BatchedDestination() },
    {
      provide: APP_PINO,
      inject: [APP_CONFIG, APP_LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: BatchedDestination) =>
        pino(
          {
            level: config.log.level,
            redact: {
              paths: [
                'password',
                'refreshToken',
                'accessToken',
                'authorization',
                'headers.authorization',
                'headers.cookie',
              ],
              censor: '[redacted]',
            },
          },
          destination,
        ),
    },
    {
      provide: PinoLoggerService,
      inject: [APP_PINO],
      useFactory: (logger: pino.Logger) => new PinoLoggerService(logger),
    },
  ],
  exports: [APP_PINO, APP_LOG_DESTINATION, PinoLoggerService],
})
export class LoggingModule implements OnApplicationShutdown {
  constructor(@Inject(APP_LOG_DESTINATION) private readonly destination: BatchedDestination) {}

  /** Writes what is pending (the process may live on: tests build many apps in one process). */
  onApplicationShutdown(): void {
    this.destination.close();
  }
}
