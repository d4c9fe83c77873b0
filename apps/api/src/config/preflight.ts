import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { validateEnv, type AppConfig } from './app-config';
import type { AppConfigOptions } from './app-config.module';

/**
 * Validates the environment the way `AppConfigModule` will (`.env` in the
 * working directory, overridden by the process environment) before Nest
 * starts, so a bad value prints the list of bad variables and nothing else,
 * instead of Nest's stack trace of a failed module. `createApp` reads it
 * too, with its `options`, for what Fastify must know before the module
 * graph exists (`TRUST_PROXY`).
 */
export function preflightConfig(cwd = process.cwd(), options: AppConfigOptions = {}): AppConfig {
  const file = resolve(cwd, '.env');
  const fromFile = !options.ignoreEnvFile && existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return validateEnv({ ...fromFile, ...process.env, ...options.env });
}
