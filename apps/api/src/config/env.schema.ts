import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parsePriceTable, type PriceTable } from '@app/ai';
import { jwtKeyProblems } from './jwt-keys';
import { parseTrustProxy } from './trust-proxy';

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

/** `host:port,host:port`, at most 32: the sentinels (`REDIS_SENTINELS`) or cluster nodes (`REDIS_CLUSTER_NODES`) to ask first. */
const hostPortList = (what: string, example: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v?.trim()) return undefined;
      const nodes: Array<{ host: string; port: number }> = [];
      for (const item of v.split(',').map((s) => s.trim())) {
        const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(item);
        const port = match ? Number(match[2]) : 0;
        if (!match || port < 1 || port > 65_535) {
          ctx.addIssue({ code: 'custom', message: `"${item.slice(0, 100)}" is not host:port (e.g. ${example})` });
          return z.NEVER;
        }
        nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
      }
      if (nodes.length > 32) {
        ctx.addIssue({ code: 'custom', message: `lists more than 32 ${what}` });
        return z.NEVER;
      }
      return nodes;
    });

/** A decimal number in [min, max]. */
const decimal = (min: number, max: number, defaultValue: number) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, { error: `must be a number between ${min} and ${max}` })
    .default(String(defaultValue))
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );

/** A model's name as a provider spells it (`gpt-4o-mini`, `qwen2.5:7b`, `org/model@rev`). */
const modelName = z
  .string()
  .regex(/^[A-Za-z0-9._:/@-]{1,100}$/, { error: 'must name models of 1–100 characters of A-Z a-z 0-9 . _ : / @ -' });

/** A comma-separated list of model names (empty by default). */
const modelList = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean),
  );

/** A price table as JSON (`AI_PRICES`); the error names the bad entry, never echoes the value. */
const priceTable = z
  .string()
  .optional()
  .transform((value, ctx): PriceTable | undefined => {
    if (!value) return undefined;
    try {
      return parsePriceTable(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

/** The JWT secret used when none is configured: fine for development, refused in production. */
export const DEV_JWT_SECRET = 'dev-only-jwt-secret-do-not-use-in-production';

/**
 * The `JWT_SECRET` placeholder of `.env.example` (non-empty, so that docker
 * compose's `${JWT_SECRET:?…}` accepts a copied file): fine for development,
 * refused in production like {@link DEV_JWT_SECRET}, since it is just as public.
 */
export const EXAMPLE_JWT_SECRET = 'replace-me-with-the-output-of-openssl-rand-base64-48';

/** True when tokens are signed (HS256) with a secret anyone can read in this repository. */
export function signsWithPublicSecret(env: Pick<Env, 'JWT_ALGORITHM' | 'JWT_SECRET'>): boolean {
  return env.JWT_ALGORITHM === 'HS256' && PUBLIC_JWT_SECRETS.has(env.JWT_SECRET);
}

/** The secrets anyone can read in this repository, and what production says when it meets one. */
const PUBLIC_JWT_SECRETS: ReadonlyMap<string, string> = new Map([
  [DEV_JWT_SECRET, 'must be set in production (the default is public)'],
  [EXAMPLE_JWT_SECRET, 'is the placeholder from .env.example, refused in production (it is public)'],
]);

/** An optional secret taken as is (no URL encoding); empty means unset. Never echoed. */
const optionalSecret = z
  .string()
  .optional()
  .transform((v) => v || undefined);

/** True when `url` carries a password in its userinfo (an unparseable URL has its own issue already). */
function urlHasPassword(url: string | undefined): boolean {
  if (!url) return false;
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

const PEM_KEY = /-----BEGIN [A-Z ]*KEY-----/;

/** A PEM key; `\n` escapes (one-line .env values) become newlines. */
const pem = z
  .string()
  .optional()
  .transform((v) => (v ? v.replace(/\\n/g, '\n') : undefined))
  .refine((v) => v === undefined || PEM_KEY.test(v), { error: 'must be a PEM key' });

/**
 * The environment variables the API reads, with their defaults. Validated once
 * at boot (see `validateEnv`); nothing else in the code base reads `process.env`.
 */
export const envSchema = z
  .object({
    NODE_ENV: z
      .enum(['development', 'production', 'test'], { error: 'must be development, production or test' })
      .default('development'),
    // No default here: `validateEnv` picks 0.0.0.0, or 127.0.0.1 while the JWT secret is a public one.
    HOST: z.string().min(1).optional(),
    PORT: int(1, 65535, 3000),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'must be fatal, error, warn, info, debug, trace or silent',
      })
      .default('info'),
    HTTP_LOG: flag(true),
    TRUST_PROXY: z
      .string()
      .optional()
      .transform((value, ctx) => {
        try {
          return parseTrustProxy(value);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
    BODY_LIMIT: int(1024, 100 * 1024 * 1024, 1024 * 1024),
    BODY_MAX_DEPTH: int(1, 1_000, 20),
    BODY_MAX_KEYS: int(1, 1_000_000, 200),
    BODY_MAX_TOTAL_KEYS: int(1, 10_000_000, 2_000),
    BODY_MAX_ARRAY_LENGTH: int(1, 10_000_000, 1_000),
    HTTP_HEADERS_TIMEOUT_MS: int(100, 600_000, 10_000),
    HTTP_REQUEST_TIMEOUT_MS: int(100, 3_600_000, 30_000),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: int(100, 3_600_000, 72_000),
    SHUTDOWN_TIMEOUT_MS: int(0, 120_000, 10_000),
    DATABASE_URL: urlWithScheme(['postgres:', 'postgresql:'], 'postgres://user:password@host:port/db'),
    DATABASE_PASSWORD: optionalSecret,
    DATA_DIR: z.string().min(1).default('./data'),
    DB_MIGRATIONS_RUN: flag(true),
    DB_QUERY_TIMEOUT_MS: int(100, 600_000, 5_000),
    DB_CONNECT_TIMEOUT_MS: int(100, 120_000, 5_000),
    REDIS_URL: redisUrl,
    REDIS_PASSWORD: optionalSecret,
    REDIS_SENTINELS: hostPortList('sentinels', 'sentinel-1:26379'),
    REDIS_CLUSTER_NODES: hostPortList('nodes', 'redis-1:6379'),
    // Empty (as .env.example leaves it) is unset.
    REDIS_SENTINEL_MASTER: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1–64 characters of A-Z a-z 0-9 . _ -' })
        .optional(),
    ),
    REDIS_SENTINEL_PASSWORD: optionalSecret,
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
    CACHE_TTL_QUERY: int(1, 30 * 24 * 3600, 300),
    CACHE_TTL_HTTP: int(1, 30 * 24 * 3600, 600),
    CACHE_GRACE_HTTP: int(0, 30 * 24 * 3600, 300),
    HEALTH_MAX_HEAP_MB: int(16, 65_536, 1_024),
    METRICS_TOKEN: z.string().optional(),
    JWT_ALGORITHM: z.enum(['HS256', 'RS256', 'ES256'], { error: 'must be HS256, RS256 or ES256' }).default('HS256'),
    JWT_SECRET: z
      .string()
      .optional()
      .transform((v) => v || DEV_JWT_SECRET)
      .pipe(z.string().min(32, { error: 'must be at least 32 characters' })),
    JWT_PRIVATE_KEY: pem,
    JWT_PUBLIC_KEY: pem,
    JWT_ACCESS_TTL: int(10, 24 * 3600, 900),
    JWT_REFRESH_TTL: int(60, 90 * 24 * 3600, 7200),
    JWT_VERIFIED_CACHE_SIZE: int(0, 1_000_000, 10_000),
    ADMIN_EMAIL: z
      .email({ error: 'must be an email address' })
      .optional()
      .or(z.literal('').transform(() => undefined)),
    ADMIN_PASSWORD: z
      .string()
      .optional()
      .transform((v) => v || undefined)
      .refine((v) => v === undefined || (v.length >= 8 && v.length <= 128), {
        error: 'must be 8 to 128 characters',
      }),
    THROTTLE_AUTH_LIMIT: int(1, 1_000_000, 10),
    THROTTLE_AUTH_TTL: int(1, 24 * 3600, 60),
    THROTTLE_LOGIN_PAIR_LIMIT: int(1, 1_000_000, 5),
    THROTTLE_LOGIN_PAIR_TTL: int(1, 24 * 3600, 900),
    THROTTLE_LOGIN_EMAIL_LIMIT: int(1, 1_000_000, 50),
    THROTTLE_LOGIN_EMAIL_TTL: int(1, 24 * 3600, 900),
    THROTTLE_LOGIN_BACKOFF_BASE: int(1, 24 * 3600, 1),
    THROTTLE_LOGIN_BACKOFF_MAX: int(1, 24 * 3600, 900),
    THROTTLE_LIMIT: int(0, 1_000_000_000, 600),
    THROTTLE_TTL: int(1, 24 * 3600, 60),
    THROTTLE_SYNC_MS: int(10, 60_000, 250),
    AUTH_REVOCATION_POLL_MS: int(100, 600_000, 2_000),
    AI_PROVIDER: z.enum(['simulated', 'openai'], { error: 'must be simulated or openai' }).default('simulated'),
    AI_BASE_URL: urlWithScheme(['http:', 'https:'], 'http(s)://host[:port]/v1'),
    AI_API_KEY: z.string().optional(),
    AI_MODEL: z
      .string()
      .optional()
      .transform((v) => v || undefined)
      .pipe(modelName.optional()),
    AI_MODELS: modelList.pipe(z.array(modelName)),
    AI_TIMEOUT_MS: int(100, 600_000, 60_000),
    AI_MAX_RETRIES: int(0, 10, 2),
    AI_SIMULATED_LATENCY_MS: int(0, 60_000, 300),
    AI_TEMPERATURE: decimal(0, 2, 0),
    AI_MAX_TOKENS: int(1, 1_000_000, 1024),
    AI_CACHE_SCOPE: z
      .enum(['global', 'boardroom', 'user'], { error: 'must be global, boardroom or user' })
      .default('boardroom'),
    AI_CACHE_MODELS: modelList.pipe(z.array(modelName)),
    AI_PRICES: priceTable,
    AI_PRICES_FILE: z.string().optional(),
    CACHE_TTL_AI: int(1, 30 * 24 * 3600, 1800),
    CACHE_GRACE_AI: int(0, 30 * 24 * 3600, 3600),
    CACHE_TTL_CONVERSATION: int(1, 30 * 24 * 3600, 3600),
    CONVERSATION_MAX_CONTENT: int(1, 1_000_000, 16_000),
    CONVERSATION_MAX_MESSAGES: int(1, 1_000, 50),
    CONVERSATION_MAX_TOKENS: int(100, 10_000_000, 8_000),
    CONVERSATION_WARM_ON_LOGIN: int(0, 100, 5),
    CACHE_ADMIN_SAMPLE_MS: int(0, 3_600_000, 10_000),
  })
  .superRefine((env, ctx) => {
    if (env.CACHE_BACKEND === 'redis' && !env.REDIS_URL && !env.REDIS_SENTINELS && !env.REDIS_CLUSTER_NODES) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: 'is required when CACHE_BACKEND=redis (or REDIS_SENTINELS, or REDIS_CLUSTER_NODES)',
      });
    }
    if (env.REDIS_CLUSTER_NODES && (env.REDIS_URL || env.REDIS_SENTINELS)) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_CLUSTER_NODES'],
        message: 'cannot be set together with REDIS_URL or REDIS_SENTINELS: choose one way to reach Redis',
      });
    }
    if (env.REDIS_SENTINELS && env.REDIS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_SENTINELS'],
        message: 'cannot be set together with REDIS_URL: the sentinels name the master',
      });
    }
    if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_MASTER) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_SENTINEL_MASTER'],
        message: 'is required with REDIS_SENTINELS (the name in `sentinel monitor <name> …`)',
      });
    }
    if (env.THROTTLE_LOGIN_BACKOFF_MAX < env.THROTTLE_LOGIN_BACKOFF_BASE) {
      ctx.addIssue({
        code: 'custom',
        path: ['THROTTLE_LOGIN_BACKOFF_MAX'],
        message: 'must be at least THROTTLE_LOGIN_BACKOFF_BASE',
      });
    }
    const publicSecret = PUBLIC_JWT_SECRETS.get(env.JWT_SECRET);
    if (env.NODE_ENV === 'production' && env.JWT_ALGORITHM === 'HS256' && publicSecret) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: `${publicSecret}: set a random one, e.g. the output of \`openssl rand -base64 48\``,
      });
    }
    // A password is taken from one place only: two that disagree would leave the operator guessing which is used.
    for (const [password, url] of [
      ['DATABASE_PASSWORD', 'DATABASE_URL'],
      ['REDIS_PASSWORD', 'REDIS_URL'],
    ] as const) {
      if (env[password] && urlHasPassword(env[url])) {
        ctx.addIssue({
          code: 'custom',
          path: [password],
          message: `cannot be set together with a password in ${url}: keep one of the two`,
        });
      }
    }
    if (env.JWT_ALGORITHM !== 'HS256') {
      for (const key of ['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY'] as const) {
        if (!env[key])
          ctx.addIssue({ code: 'custom', path: [key], message: `is required when JWT_ALGORITHM=${env.JWT_ALGORITHM}` });
      }
      // Only a pair that looks like PEM: anything else has its 'must be a PEM key' already.
      if (
        env.JWT_PRIVATE_KEY &&
        env.JWT_PUBLIC_KEY &&
        PEM_KEY.test(env.JWT_PRIVATE_KEY) &&
        PEM_KEY.test(env.JWT_PUBLIC_KEY)
      ) {
        for (const { variable, message } of jwtKeyProblems(env.JWT_ALGORITHM, env.JWT_PRIVATE_KEY, env.JWT_PUBLIC_KEY))
          ctx.addIssue({ code: 'custom', path: [variable], message });
      }
    }
    if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
      // Node refuses a headers timeout above the request timeout: the whole request includes its headers.
      ctx.addIssue({
        code: 'custom',
        path: ['HTTP_HEADERS_TIMEOUT_MS'],
        message: 'must not be above HTTP_REQUEST_TIMEOUT_MS',
      });
    }
    if (env.AI_PROVIDER === 'openai') {
      for (const key of ['AI_BASE_URL', 'AI_MODEL'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when AI_PROVIDER=openai' });
      }
    }
    if (env.AI_PRICES && env.AI_PRICES_FILE) {
      ctx.addIssue({ code: 'custom', path: ['AI_PRICES_FILE'], message: 'cannot be set together with AI_PRICES' });
    }
    if (!env.ADMIN_EMAIL !== !env.ADMIN_PASSWORD) {
      const missing = env.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'is required when the other ADMIN_* variable is set' });
    }
  });

/** The price table of `AI_PRICES` or of the file `AI_PRICES_FILE` (read once, at boot); `{}` without either. */
export function readPriceTable(env: Pick<Env, 'AI_PRICES' | 'AI_PRICES_FILE'>): PriceTable {
  if (env.AI_PRICES) return env.AI_PRICES;
  if (!env.AI_PRICES_FILE) return {};
  let text: string;
  try {
    text = readFileSync(env.AI_PRICES_FILE, 'utf8');
  } catch (cause) {
    throw new Error(`AI_PRICES_FILE: cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
  try {
    return parsePriceTable(text);
  } catch (cause) {
    throw new Error(`AI_PRICES_FILE: ${(cause as Error).message}`, { cause });
  }
}

/** The raw, validated environment. */
export type Env = z.output<typeof envSchema>;
