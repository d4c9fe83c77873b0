import { z } from 'zod';

/** Accepts the usual spellings of a boolean flag in an environment variable. */
const flag = (defaultValue: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
      error: 'must be one of true, false, 1, 0, yes, no, on, off',
    })
    .default(defaultValue ? 'true' : 'false')
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const int = (min: number, max: number, defaultValue: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `must be an integer between ${min} and ${max}` })
    .default(String(defaultValue))
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );

const urlWithScheme = (schemes: string[], hint: string) =>
  z
    .string()
    .optional()
    .refine(
      (value) => {
        if (value === undefined || value === '') return true;
        try {
          return schemes.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      // Never echo the value: these URLs carry passwords.
      { error: `must be a URL of the form ${hint}` },
    )
    .transform((value) => (value === '' ? undefined : value));

const redisUrl = urlWithScheme(['redis:', 'rediss:'], 'redis://[:password@]host:port[/db] or rediss://…').refine(
  (value) => {
    if (value === undefined) return true;
    const db = new URL(value).pathname.replace(/^\//, '');
    return db === '' || /^\d{1,2}$/.test(db);
  },
  { error: 'has a database index that is not a number' },
);

/**
 * The environment variables the API reads, with their defaults. Validated once
 * at boot (see `validateEnv`); nothing else in the code base reads `process.env`.
 */
export const envSchema = z
  .object({
    NODE_ENV: z
      .enum(['development', 'production', 'test'], { error: 'must be development, production or test' })
      .default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: int(1, 65535, 3000),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'must be fatal, error, warn, info, debug, trace or silent',
      })
      .default('info'),
    HTTP_LOG: flag(true),
    BODY_LIMIT: int(1024, 100 * 1024 * 1024, 1024 * 1024),
    SHUTDOWN_TIMEOUT_MS: int(0, 120_000, 10_000),
    DATABASE_URL: urlWithScheme(['postgres:', 'postgresql:'], 'postgres://user:password@host:port/db'),
    DATA_DIR: z.string().min(1).default('./data'),
    DB_MIGRATIONS_RUN: flag(true),
    REDIS_URL: redisUrl,
    REDIS_CONNECT_TIMEOUT_MS: int(100, 60_000, 2_000),
    REDIS_COMMAND_TIMEOUT_MS: int(10, 60_000, 500),
    REDIS_RECONNECT_MAX_DELAY_MS: int(50, 60_000, 2_000),
    CACHE_BACKEND: z.enum(['auto', 'redis', 'memory'], { error: 'must be auto, redis or memory' }).default('auto'),
    CACHE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, { error: 'must be 1–32 characters of A-Z a-z 0-9 _ -' })
      .default('bp'),
    CACHE_L1_MAX_ENTRIES: int(1, 10_000_000, 10_000),
    CACHE_L1_MAX_BYTES: int(1024, 64 * 1024 * 1024 * 1024, 64 * 1024 * 1024),
    CACHE_DEFAULT_TTL: int(1, 30 * 24 * 3600, 300),
    HEALTH_MAX_HEAP_MB: int(16, 65_536, 1_024),
    METRICS_TOKEN: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    if (env.CACHE_BACKEND === 'redis' && !env.REDIS_URL) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'is required when CACHE_BACKEND=redis' });
    }
  });

/** The raw, validated environment. */
export type Env = z.output<typeof envSchema>;
