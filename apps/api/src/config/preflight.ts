import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { validateEnv, type AppConfig } from './app-config';

/**
 * Validates the environment the way `AppConfigModule` will (`.env` in the
 * working directory, overridden by the process environment) before Nest
 * starts, so a bad value prints the list of bad variables and nothing else,
 * instead of Nest's stack trace of a failed module.
 */
export function preflightConfig(cwd = process.cwd()): AppConfig {
  const file = resolve(cwd, '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return validateEnv({ ...fromFile, ...process.env });
}
