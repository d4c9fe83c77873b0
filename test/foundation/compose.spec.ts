import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { parse } from 'yaml';
import { envSchema } from '../../apps/api/src/config/env.schema';
import { MAIN_JS } from '../support/app-process';

// Docker does not run here: these checks keep docker-compose.yml, the
// Dockerfile and .env.example consistent with each other and with the schema.
const root = resolve(__dirname, '../..');
const read = (file: string) => readFileSync(resolve(root, file), 'utf8');
const compose = parse(read('docker-compose.yml'));
const envExample = parseEnv(read('.env.example'));
const dockerfile = read('Dockerfile');
const appVariables = Object.keys(envSchema.shape);
const composeOnly = ['POSTGRES_PASSWORD', 'REDIS_PASSWORD'];

describe('docker-compose.yml', () => {
  it('defines Postgres, Redis 7 and the API, each with a healthcheck', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres', 'redis']);
    expect(compose.services.redis.image).toMatch(/^redis:7/);
    expect(compose.services.api.build).toBe('.');
    for (const [name, service] of Object.entries<any>(compose.services)) {
      expect({ name, test: service.healthcheck?.test }).toEqual({ name, test: expect.any(Array) });
    }
  });

  it('runs Redis with AOF everysec, a 256 MB cap and a password from .env', () => {
    const command: string[] = compose.services.redis.command.map(String);
    const flag = (name: string) => command[command.indexOf(name) + 1];
    expect(flag('--appendonly')).toBe('yes');
    expect(flag('--appendfsync')).toBe('everysec');
    expect(flag('--maxmemory')).toBe('256mb');
    expect(flag('--requirepass')).toMatch(/^\$\{REDIS_PASSWORD/);
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

  it('publishes the API on PORT, which defaults to the port the image exposes', () => {
    expect(compose.services.api.ports).toEqual(['${PORT:-3000}:${PORT:-3000}']);
    expect(envExample.PORT).toBe('3000');
    expect(dockerfile).toMatch(/^EXPOSE 3000$/m);
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
});
