import { resolve } from 'node:path';
import { z } from 'zod';
import type { AiCacheScope, PriceTable } from '@app/ai';
import type { RedisClusterOptions, RedisSentinelOptions } from '@app/redis';
import { withPassword } from './connection-url';
import type { TrustProxy } from './trust-proxy';
import { envSchema, readPriceTable, signsWithPublicSecret, type Env } from './env.schema';

/** Where the relational data lives. */
export type DatabaseConfig =
  | {
      readonly kind: 'postgres';
      /** `DATABASE_URL`, with `DATABASE_PASSWORD` (percent-encoded) in it when that is set. */
      readonly url: string;
      readonly migrationsRun: boolean;
      /** The longest a query may go unanswered (`DB_QUERY_TIMEOUT_MS`); the server cancels a statement a little earlier. */
      readonly queryTimeoutMs: number;
      /** The longest a request waits for a pooled or a new connection (`DB_CONNECT_TIMEOUT_MS`). */
      readonly connectTimeoutMs: number;
    }
  | { readonly kind: 'pglite'; readonly dataDir: string; readonly migrationsRun: boolean };

/** Bounds on a parsed JSON body, checked before validation sees it (`json-body-limits.ts`). */
export interface JsonBodyLimits {
  /** Deepest nesting of objects and arrays (`BODY_MAX_DEPTH`). */
  readonly maxDepth: number;
  /** Most properties in one object (`BODY_MAX_KEYS`). */
  readonly maxKeys: number;
  /** Most properties in the whole body (`BODY_MAX_TOTAL_KEYS`). */
  readonly maxTotalKeys: number;
  /** Most elements in one array (`BODY_MAX_ARRAY_LENGTH`). */
  readonly maxArrayLength: number;
}

/** How long a client may take, in milliseconds (Node's HTTP server timeouts). */
export interface HttpTimeouts {
  /** From the connection (or the end of the last response) to the end of the request's headers. */
  readonly headersMs: number;
  /** From the start of a request to the end of its body. */
  readonly requestMs: number;
  /** How long an idle keep-alive connection stays open. */
  readonly keepAliveMs: number;
}

/** The typed configuration every module is built from. */
export interface AppConfig {
  readonly runtime: { readonly nodeEnv: Env['NODE_ENV'] };
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimit: number;
    readonly json: JsonBodyLimits;
    readonly timeouts: HttpTimeouts;
    readonly shutdownTimeoutMs: number;
    /** `TRUST_PROXY`: whose `X-Forwarded-For` gives `request.ip` (undefined: none, the socket's address). */
    readonly trustProxy?: TrustProxy;
  };
  readonly log: { readonly level: Env['LOG_LEVEL']; readonly http: boolean };
  readonly database: DatabaseConfig;
  readonly redis: {
    /** `REDIS_URL`, with `REDIS_PASSWORD` (percent-encoded) in it when that is set; unset with `CACHE_BACKEND=memory`. */
    readonly url?: string;
    /** `REDIS_SENTINELS`, `REDIS_SENTINEL_MASTER`, `REDIS_PASSWORD` and `REDIS_SENTINEL_PASSWORD`; unset with `CACHE_BACKEND=memory`. */
    readonly sentinel?: RedisSentinelOptions;
    /** `REDIS_CLUSTER_NODES` and `REDIS_PASSWORD`; unset with `CACHE_BACKEND=memory`. */
    readonly cluster?: RedisClusterOptions;
    readonly connectTimeoutMs: number;
    readonly commandTimeoutMs: number;
    readonly reconnectMaxDelayMs: number;
  };
  readonly cache: {
    readonly backend: Env['CACHE_BACKEND'];
    readonly prefix: string;
    readonly l1MaxEntries: number;
    readonly l1MaxBytes: number;
    readonly defaultTtlMs: number;
    /** TTL of cached database reads (`CACHE_TTL_QUERY`). */
    readonly queryTtlMs: number;
    /** TTL of cached HTTP responses (`CACHE_TTL_HTTP`). */
    readonly httpTtlMs: number;
    /** Stale-if-error window of cached HTTP responses (`CACHE_GRACE_HTTP`). */
    readonly httpGraceMs: number;
  };
  readonly health: { readonly maxHeapBytes: number };
  readonly metrics: { readonly token?: string };
  readonly auth: {
    readonly jwt: {
      readonly algorithm: Env['JWT_ALGORITHM'];
      readonly secret: string;
      /** HS256 with the built-in development secret or the `.env.example` placeholder (refused in production). */
      readonly publicSecret: boolean;
      readonly privateKey?: string;
      readonly publicKey?: string;
      readonly accessTtl: number;
      readonly refreshTtl: number;
      readonly tokenCacheSize: number;
    };
    readonly admin?: { readonly email: string; readonly password: string };
    readonly throttle: {
      readonly authLimit: number;
      readonly authTtl: number;
      readonly userLimit: number;
      readonly userTtl: number;
      readonly syncMs: number;
      readonly login: {
        readonly pairLimit: number;
        readonly pairTtl: number;
        readonly emailLimit: number;
        readonly emailTtl: number;
        readonly backoffBase: number;
        readonly backoffMax: number;
      };
    };
    readonly revocationPollMs: number;
  };
  readonly ai: {
    readonly provider: Env['AI_PROVIDER'];
    readonly baseUrl?: string;
    readonly apiKey?: string;
    /** The default model of a new conversation. */
    readonly model: string;
    /** The models a conversation may name (the default among them): what the operator pays for. */
    readonly models: readonly string[];
    readonly timeoutMs: number;
    readonly maxRetries: number;
    readonly simulatedLatencyMs: number;
    readonly temperature: number;
    readonly maxTokens: number;
    readonly cache: {
      readonly ttlMs: number;
      readonly graceMs: number;
      readonly scope: AiCacheScope;
      readonly models: readonly string[];
    };
    readonly prices: PriceTable;
  };
  readonly conversations: {
    readonly ttlMs: number;
    readonly maxContentChars: number;
    readonly maxMessages: number;
    readonly maxTokens: number;
    readonly warmOnLogin: number;
  };
  readonly admin: { readonly sampleIntervalMs: number };
}

/** Thrown when the environment is invalid; the message names every bad variable. */
export class ConfigValidationError extends Error {
  readonly code = 'E_CONFIG_INVALID';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

function describe(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const variable = issue.path.join('.') || '(environment)';
    return `${variable}: ${issue.message}`;
  });
}

/**
 * Validates the environment and maps it to `AppConfig`.
 * Every problem is collected before throwing, so one boot names them all.
 */
export function validateEnv(raw: Record<string, unknown>): AppConfig {
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigValidationError(describe(parsed.error));
  const env = parsed.data;
  return {
    runtime: { nodeEnv: env.NODE_ENV },
    http: {
      // Anyone who can reach a server signing with a public secret can forge any token (an admin's too):
      // unless told otherwise, such a server (development without JWT_SECRET) listens on loopback only.
      host: env.HOST ?? (signsWithPublicSecret(env) ? '127.0.0.1' : '0.0.0.0'),
      port: env.PORT,
      trustProxy: env.TRUST_PROXY,
      bodyLimit: env.BODY_LIMIT,
      json: {
        maxDepth: env.BODY_MAX_DEPTH,
        maxKeys: env.BODY_MAX_KEYS,
        maxTotalKeys: env.BODY_MAX_TOTAL_KEYS,
        maxArrayLength: env.BODY_MAX_ARRAY_LENGTH,
      },
      timeouts: {
        headersMs: env.HTTP_HEADERS_TIMEOUT_MS,
        requestMs: env.HTTP_REQUEST_TIMEOUT_MS,
        keepAliveMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      },
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    },
    log: { level: env.LOG_LEVEL, http: env.HTTP_LOG },
    database: env.DATABASE_URL
      ? {
          kind: 'postgres',
          url: withPassword(env.DATABASE_URL, env.DATABASE_PASSWORD),
          migrationsRun: env.DB_MIGRATIONS_RUN,
          queryTimeoutMs: env.DB_QUERY_TIMEOUT_MS,
          connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
        }
      : { kind: 'pglite', dataDir: resolve(env.DATA_DIR, 'pglite'), migrationsRun: env.DB_MIGRATIONS_RUN },
    redis: {
      url:
        env.CACHE_BACKEND === 'memory' || !env.REDIS_URL ? undefined : withPassword(env.REDIS_URL, env.REDIS_PASSWORD),
      sentinel:
        env.CACHE_BACKEND === 'memory' || !env.REDIS_SENTINELS
          ? undefined
          : {
              nodes: env.REDIS_SENTINELS,
              masterName: env.REDIS_SENTINEL_MASTER!,
              password: env.REDIS_PASSWORD,
              sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
            },
      cluster:
        env.CACHE_BACKEND === 'memory' || !env.REDIS_CLUSTER_NODES
          ? undefined
          : { nodes: env.REDIS_CLUSTER_NODES, password: env.REDIS_PASSWORD },
      connectTimeoutMs: env.REDIS_CONNECT_TIMEOUT_MS,
      commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
      reconnectMaxDelayMs: env.REDIS_RECONNECT_MAX_DELAY_MS,
    },
    cache: {
      backend: env.CACHE_BACKEND,
      prefix: env.CACHE_PREFIX,
      l1MaxEntries: env.CACHE_L1_MAX_ENTRIES,
      l1MaxBytes: env.CACHE_L1_MAX_BYTES,
      defaultTtlMs: env.CACHE_DEFAULT_TTL * 1000,
      queryTtlMs: env.CACHE_TTL_QUERY * 1000,
      httpTtlMs: env.CACHE_TTL_HTTP * 1000,
      httpGraceMs: env.CACHE_GRACE_HTTP * 1000,
    },
    health: { maxHeapBytes: env.HEALTH_MAX_HEAP_MB * 1024 * 1024 },
    metrics: { token: env.METRICS_TOKEN || undefined },
    auth: {
      jwt: {
        algorithm: env.JWT_ALGORITHM,
        secret: env.JWT_SECRET,
        publicSecret: signsWithPublicSecret(env),
        privateKey: env.JWT_PRIVATE_KEY,
        publicKey: env.JWT_PUBLIC_KEY,
        accessTtl: env.JWT_ACCESS_TTL,
        refreshTtl: env.JWT_REFRESH_TTL,
        tokenCacheSize: env.JWT_VERIFIED_CACHE_SIZE,
      },
      admin:
        env.ADMIN_EMAIL && env.ADMIN_PASSWORD ? { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD } : undefined,
      throttle: {
        authLimit: env.THROTTLE_AUTH_LIMIT,
        authTtl: env.THROTTLE_AUTH_TTL,
        userLimit: env.THROTTLE_LIMIT,
        userTtl: env.THROTTLE_TTL,
        syncMs: env.THROTTLE_SYNC_MS,
        login: {
          pairLimit: env.THROTTLE_LOGIN_PAIR_LIMIT,
          pairTtl: env.THROTTLE_LOGIN_PAIR_TTL,
          emailLimit: env.THROTTLE_LOGIN_EMAIL_LIMIT,
          emailTtl: env.THROTTLE_LOGIN_EMAIL_TTL,
          backoffBase: env.THROTTLE_LOGIN_BACKOFF_BASE,
          backoffMax: env.THROTTLE_LOGIN_BACKOFF_MAX,
        },
      },
      revocationPollMs: env.AUTH_REVOCATION_POLL_MS,
    },
    ai: {
      provider: env.AI_PROVIDER,
      baseUrl: env.AI_BASE_URL,
      apiKey: env.AI_API_KEY || undefined,
      model: env.AI_MODEL ?? 'simulated',
      models: [...new Set([env.AI_MODEL ?? 'simulated', ...env.AI_MODELS])],
      timeoutMs: env.AI_TIMEOUT_MS,
      maxRetries: env.AI_MAX_RETRIES,
      simulatedLatencyMs: env.AI_SIMULATED_LATENCY_MS,
      temperature: env.AI_TEMPERATURE,
      maxTokens: env.AI_MAX_TOKENS,
      cache: {
        ttlMs: env.CACHE_TTL_AI * 1000,
        graceMs: env.CACHE_GRACE_AI * 1000,
        scope: env.AI_CACHE_SCOPE,
        models: env.AI_CACHE_MODELS,
      },
      prices: prices(env),
    },
    conversations: {
      ttlMs: env.CACHE_TTL_CONVERSATION * 1000,
      maxContentChars: env.CONVERSATION_MAX_CONTENT,
      maxMessages: env.CONVERSATION_MAX_MESSAGES,
      maxTokens: env.CONVERSATION_MAX_TOKENS,
      warmOnLogin: env.CONVERSATION_WARM_ON_LOGIN,
    },
    admin: { sampleIntervalMs: env.CACHE_ADMIN_SAMPLE_MS },
  };
}

function prices(env: Env): PriceTable {
  try {
    return readPriceTable(env);
  } catch (error) {
    throw new ConfigValidationError([(error as Error).message]);
  }
}
