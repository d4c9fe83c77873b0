import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { RedisUnavailableError } from '@app/redis';
import { createApp } from './bootstrap';
import { ConfigValidationError, type AppConfig } from './config/app-config';
import { APP_CONFIG } from './config/app-config.constants';
import { preflightConfig } from './config/preflight';
import { DataDirLockedError } from './database/database.errors';

/** Errors that mean "fix your configuration" (or "another instance runs"), printed without a stack trace. */
const isOperatorError = (error: unknown): error is Error =>
  error instanceof ConfigValidationError ||
  error instanceof RedisUnavailableError ||
  error instanceof DataDirLockedError;

/** Said at every boot that signs tokens with a public secret (development without `JWT_SECRET`). */
function publicSecretWarning(host: string): string {
  const reach =
    host === '127.0.0.1' || host === 'localhost' || host === '::1'
      ? 'so the API listens on this machine only (HOST opens it to others)'
      : `and HOST=${host} lets anyone who reaches this port forge any token, an admin's included`;
  return `JWT_SECRET is unset or the .env.example placeholder: tokens are signed with a public secret, ${reach}; set JWT_SECRET (openssl rand -base64 48)`;
}

async function main(): Promise<void> {
  preflightConfig();
  const app = await createApp();
  const config = app.get<AppConfig>(APP_CONFIG);
  const logger = new Logger('Bootstrap');

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received: finishing in-flight requests`);
    // A hung dependency must not keep a terminating pod alive forever.
    setTimeout(() => {
      logger.error(`shutdown took longer than ${config.http.shutdownTimeoutMs} ms: exiting`);
      process.exit(1);
    }, config.http.shutdownTimeoutMs).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  await app.listen({ port: config.http.port, host: config.http.host });
  logger.log(`listening on http://${config.http.host}:${config.http.port} (docs at /docs)`);
  if (config.auth.jwt.publicSecret) logger.warn(publicSecretWarning(config.http.host));
}

main().catch((error: unknown) => {
  if (isOperatorError(error)) {
    process.stderr.write(`${error.message}\n`);
  } else {
    // Unexpected: the lines logged while booting are the context (they were held back, see createApp).
    Logger.flush();
    process.stderr.write(`Boot failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
