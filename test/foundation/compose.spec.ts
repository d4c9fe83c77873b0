import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { parse } from 'yaml';
import { validateEnv } from '../../apps/api/src/config/app-config';
import { EXAMPLE_JWT_SECRET, envSchema } from '../../apps/api/src/config/env.schema';
import { MAIN_JS } from '../support/app-process';
import {
  interpolate,
  interpolateAll,
  requiredVariables,
  stringValues,
  type ComposeVariables,
} from '../support/compose';

// Docker does not run here: these checks keep docker-compose.yml, the
// Dockerfile and .env.example consistent with each other and with the schema.
const root = resolve(__dirname, '../..');
const read = (file: string) => readFileSync(resolve(root, file), 'utf8');
const compose = parse(read('docker-compose.yml'));
const envExample = parseEnv(read('.env.example'));
const dockerfile = read('Dockerfile');
const appVariables = Object.keys(envSchema.shape);
/** Read by docker-compose.yml only (the containers' passwords and host ports), never by the app. */
const composeOnly = ['POSTGRES_PASSWORD', 'REDIS_SERVER_PASSWORD', 'POSTGRES_HOST_PORT', 'REDIS_HOST_PORT'];
/** Every character that must be percent-encoded in a URL's userinfo. */
const AWKWARD_PASSWORD = 'p@ss:w/rd%';

/** The API container's environment as compose builds it from this `.env`: `environment` wins over `env_file`. */
function apiEnvironment(dotenv: ComposeVariables): Record<string, string | undefined> {
  const environment = interpolateAll<Record<string, unknown>>(compose.services.api.environment, dotenv);
  return { ...dotenv, ...Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)])) };
}

/** The schema's complaints about an environment, as the boot prints them. */
function problems(env: Record<string, string | undefined>): string[] {
  const result = envSchema.safeParse(env);
  return (result.error?.issues ?? []).map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('docker-compose.yml', () => {
  it('defines Postgres, Redis 7 and the API; Postgres and Redis with a healthcheck, the API with its image’s', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres', 'redis']);
    expect(compose.services.redis.image).toMatch(/^redis:7/);
    expect(compose.services.api.build).toBe('.');
    for (const name of ['postgres', 'redis']) {
      expect({ name, test: compose.services[name].healthcheck?.test }).toEqual({ name, test: expect.any(Array) });
    }
    // One definition of the API's health: the Dockerfile's HEALTHCHECK (checked below).
    expect(compose.services.api.healthcheck).toBeUndefined();
  });

  it('runs Redis with AOF everysec, a 256 MB cap and the password from .env as one argument', () => {
    const command: string[] = compose.services.redis.command.map(String);
    const flag = (name: string) => command[command.indexOf(name) + 1];
    expect(flag('--appendonly')).toBe('yes');
    expect(flag('--appendfsync')).toBe('everysec');
    expect(flag('--maxmemory')).toBe('256mb');
    expect(flag('--requirepass')).toMatch(/^\$\{REDIS_SERVER_PASSWORD:\?/);
    expect(compose.services.redis.environment.REDISCLI_AUTH).toBe('${REDIS_SERVER_PASSWORD}');
    const password = `${AWKWARD_PASSWORD} $x #"'`;
    const interpolated = command.map((arg) => interpolate(arg, { REDIS_SERVER_PASSWORD: password }));
    expect(interpolated[interpolated.indexOf('--requirepass') + 1]).toBe(password);
  });

  it('keeps state in named volumes', () => {
    const declared = Object.keys(compose.volumes);
    const used = Object.values<any>(compose.services).flatMap((s) =>
      (s.volumes ?? []).map((v: string) => v.split(':')[0]),
    );
    expect(used.sort()).toEqual(declared.sort());
  });

  it('waits for healthy Postgres and Redis before starting the API', () => {
    expect(compose.services.api.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
  });

  it('gives the API only variables the app knows, and every ${VAR} it uses is in .env.example', () => {
    for (const key of Object.keys(compose.services.api.environment)) expect(appVariables).toContain(key);
    const referenced = [...read('docker-compose.yml').matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]);
    for (const variable of new Set(referenced)) expect(Object.keys(envExample)).toContain(variable);
  });

  it('passes the database and Redis passwords beside password-less URLs, never inside them', () => {
    const env = compose.services.api.environment;
    expect(env.DATABASE_PASSWORD).toBe('${POSTGRES_PASSWORD}');
    expect(env.REDIS_PASSWORD).toBe('${REDIS_SERVER_PASSWORD}');
    for (const url of [env.DATABASE_URL, env.REDIS_URL]) {
      expect(url).not.toContain('$');
      expect(new URL(url).password).toBe('');
    }
  });

  it('publishes the API on PORT, which defaults to the port the image exposes', () => {
    expect(compose.services.api.ports).toEqual(['${PORT:-3000}:${PORT:-3000}']);
    expect(envExample.PORT).toBe('3000');
    expect(dockerfile).toMatch(/^EXPOSE 3000$/m);
  });

  it.each([
    ['postgres', 'POSTGRES_HOST_PORT', 5432],
    ['redis', 'REDIS_HOST_PORT', 6379],
  ])(
    'publishes %s on 127.0.0.1 only, on %s, by default a port no local server or test uses',
    (service, variable, port) => {
      const [mapping, ...others] = compose.services[service].ports as string[];
      expect(others).toEqual([]);
      const defaultPort = new RegExp(`^127\\.0\\.0\\.1:\\$\\{${variable}:-(\\d+)\\}:${port}$`).exec(mapping)?.[1];
      expect(defaultPort).toBeDefined();
      expect(envExample[variable]).toBe(defaultPort);
      expect(['5432', '6379', '16379']).not.toContain(defaultPort);
      // Below the ephemeral range the tests' free ports and outgoing connections come from.
      expect(Number(defaultPort)).toBeLessThan(32768);
    },
  );
});

describe('.env.example copied to .env', () => {
  const required = requiredVariables(stringValues(compose));

  it('finds the variables docker-compose.yml requires (so the check below is not vacuous)', () => {
    expect([...required.keys()].sort()).toEqual(['JWT_SECRET', 'POSTGRES_PASSWORD', 'REDIS_SERVER_PASSWORD']);
    const forms = requiredVariables(['${A:?a}', '${B?b}', '$${C:?c}', '${D:-d}', '${E}']);
    expect(Object.fromEntries(forms)).toEqual({ A: { nonEmpty: true }, B: { nonEmpty: false } });
  });

  it('satisfies every ${VAR:?…} (set and non-empty) and ${VAR?…} (set) of docker-compose.yml', () => {
    const unmet = [...required]
      .filter(([name, { nonEmpty }]) => envExample[name] === undefined || (nonEmpty && envExample[name] === ''))
      .map(([name, { nonEmpty }]) => `${name} (${nonEmpty ? 'set and non-empty' : 'set'})`);
    expect(unmet).toEqual([]);
  });

  it('is read alike by compose and the app: no $ outside single quotes, which compose would expand', () => {
    const assignments = read('.env.example')
      .split('\n')
      .filter((line) => /^[A-Z0-9_]+=/.test(line));
    expect(assignments.length).toBeGreaterThanOrEqual(Object.keys(envExample).length);
    expect(assignments.filter((line) => line.includes('$') && !/^[A-Z0-9_]+='[^']*'$/.test(line))).toEqual([]);
  });

  it('gives the API an environment that production refuses for the JWT_SECRET placeholder only', () => {
    expect(problems(apiEnvironment(envExample))).toEqual([
      expect.stringMatching(/^JWT_SECRET: is the placeholder from \.env\.example.*openssl rand -base64 48/),
    ]);
  });

  it('once JWT_SECRET is set, connects the API to the containers with the passwords as written', () => {
    const config = validateEnv(
      apiEnvironment({
        ...envExample,
        JWT_SECRET: randomBytes(48).toString('base64'),
        POSTGRES_PASSWORD: AWKWARD_PASSWORD,
        REDIS_SERVER_PASSWORD: `${AWKWARD_PASSWORD}-redis`,
      }),
    );
    expect(config.runtime.nodeEnv).toBe('production');
    expect(config.database.kind).toBe('postgres');
    const database = new URL(config.database.kind === 'postgres' ? config.database.url : '');
    expect([database.host, database.username, decodeURIComponent(database.password)]).toEqual([
      'postgres:5432',
      'boardroom',
      AWKWARD_PASSWORD,
    ]);
    const redis = new URL(config.redis.url!);
    expect([redis.host, decodeURIComponent(redis.password)]).toEqual(['redis:6379', `${AWKWARD_PASSWORD}-redis`]);
  });

  it('used without Docker, sends a local Redis and Postgres no password (the compose passwords are not the app’s)', () => {
    expect([envExample.DATABASE_PASSWORD, envExample.REDIS_PASSWORD]).toEqual(['', '']);
    const config = validateEnv({
      ...envExample,
      DATABASE_URL: 'postgres://root@127.0.0.1:5432/postgres',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.database).toMatchObject({ url: 'postgres://root@127.0.0.1:5432/postgres' });
  });
});

describe('.env.example', () => {
  it('lists every variable the app reads, and nothing it does not', () => {
    expect(
      Object.keys(envExample)
        .filter((k) => !composeOnly.includes(k))
        .sort(),
    ).toEqual([...appVariables].sort());
  });

  it('is itself a valid configuration', () => {
    const result = envSchema.safeParse(envExample);
    expect(result.error?.issues ?? []).toEqual([]);
  });

  it('spells the JWT_SECRET placeholder that production refuses', () => {
    expect(envExample.JWT_SECRET).toBe(EXAMPLE_JWT_SECRET);
  });
});

describe('start commands', () => {
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };

  it('npm start, the Dockerfile and the tests run the same compiled entry point, which the build produces', () => {
    const entry = /^node (\S+)$/.exec(pkg.scripts.start)?.[1];
    expect(entry).toBe('dist/apps/api/src/main.js');
    expect(dockerfile).toContain(`CMD ["node", "${entry}"]`);
    expect(resolve(root, entry!)).toBe(MAIN_JS);
    expect(existsSync(MAIN_JS)).toBe(true); // integration tests run after npm run build
  });

  it('npm run setup installs, builds and starts', () => {
    expect(pkg.scripts.setup).toBe('npm ci && npm run build && npm start');
  });
});

describe('Dockerfile', () => {
  it('is a multi-stage build that runs as a non-root user', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/apps\/api\/src\/main\.js"\]$/m);
  });

  it('builds and runs on Node 24 LTS', () => {
    expect(dockerfile.match(/^FROM \S+/gm)).toEqual(['FROM node:24-bookworm-slim', 'FROM node:24-bookworm-slim']);
  });

  it('reports readiness as the container’s health, the one compose’s API service uses', () => {
    const healthcheck = /^HEALTHCHECK [^\n]*\\\n\s+CMD ([^\n]+)$/m.exec(dockerfile)?.[1];
    expect(healthcheck).toContain("/health/ready'");
    expect(healthcheck).not.toContain('/health/live');
  });
});
