import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { LightMyRequestResponse } from 'fastify';
// First: it loads the app (and reflect-metadata) before any module of it is imported on its own.
import { startE2eApp, type E2eApp } from '../../../test/support/e2e-app';
import { DOCS_CONTENT_SECURITY_POLICY } from '../src/http/security-headers';

/** The directives of a Content-Security-Policy header, by name. */
function directives(policy: string | undefined): Map<string, string[]> {
  const parsed = new Map<string, string[]>();
  for (const part of (policy ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) parsed.set(name, sources);
  }
  return parsed;
}

function expectBaseHeaders(res: LightMyRequestResponse): void {
  expect(res.headers).toMatchObject({
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
  expect(res.headers['content-security-policy']).toEqual(expect.any(String));
}

describe('Security headers (e2e)', () => {
  let started: E2eApp | undefined;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    started = await startE2eApp();
    app = started.app;
  });

  afterAll(async () => {
    await started?.close();
  });

  it.each([
    ['GET', '/api/v1/ping', 200],
    ['GET', '/api/v1/nowhere', 404],
    ['GET', '/api/v1/auth/me', 401],
    ['POST', '/api/v1/ping', 415],
    ['GET', '/health/live', 200],
    ['GET', '/metrics', 200],
    ['GET', '/api/v1/users/%E0%A4%A', 400], // a routing error (Fastify's frameworkErrors, no onSend hook)
  ] as const)('%s %s (%i) carries them with a policy that allows nothing', async (method, url, status) => {
    const res = await app.inject({ method, url, ...(method === 'POST' ? { payload: 'x' } : {}) });
    expect(res.statusCode).toBe(status);
    expectBaseHeaders(res);
    const csp = directives(res.headers['content-security-policy']);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
  });

  it('gives /docs a policy under which every script and style of the Swagger UI page may load', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expectBaseHeaders(page);
    expect(page.headers['content-security-policy']).toBe(DOCS_CONTENT_SECURITY_POLICY);
    const csp = directives(DOCS_CONTENT_SECURITY_POLICY);
    expect(csp.has('upgrade-insecure-requests')).toBe(false);

    // No inline script (script-src is 'self' alone) ...
    expect(csp.get('script-src')).toEqual(["'self'"]);
    const scripts = [...page.body.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts.every((attributes) => /\bsrc=/.test(attributes))).toBe(true);
    // ... inline <style> blocks, which need 'unsafe-inline' ...
    expect(page.body).toMatch(/<style>/);
    expect(csp.get('style-src')).toContain("'unsafe-inline'");

    // ... and every script and stylesheet is served by this origin with a type nosniff accepts.
    const assets = [...page.body.matchAll(/(?:src|href)=["']([^"']+\.(js|css))["']/g)];
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const [, path, kind] of assets) {
      expect(path).not.toMatch(/^(https?:)?\/\//);
      const asset = await app.inject({ method: 'GET', url: new URL(path, 'http://app/docs').pathname });
      expect({ path, status: asset.statusCode }).toEqual({ path, status: 200 });
      expect(asset.headers['content-type']).toMatch(kind === 'js' ? /javascript/ : /text\/css/);
      expect(asset.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});
