import type { SecurityHeadersOptions } from '@nestjs/common';
import { resolveSecurityHeaders } from '@nestjs/core/security/security-headers.js';
import type { FastifyInstance, onSendHookHandler } from 'fastify';
import { ADMIN_DASHBOARD_CSP } from '@app/cache-admin';

/**
 * The security headers of every response: helmet 8's headers and defaults
 * (Nest 12's resolver, the one behind `app.useSecurityHeaders()`). The API
 * answers JSON, which a browser should never render, frame or run, so its
 * Content-Security-Policy allows nothing at all.
 */
export const SECURITY_HEADERS: SecurityHeadersOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: "'none'",
      baseUri: "'none'",
      formAction: "'none'",
      frameAncestors: "'none'",
    },
  },
  xFrameOptions: { action: 'deny' },
};

/**
 * The policy of the OpenAPI UI under `/docs` (Swagger UI as `@nestjs/swagger`
 * serves it): its scripts and stylesheet are files of this origin (the page
 * has no inline script), the page has inline `<style>` blocks and `style`
 * attributes, its stylesheet draws icons from `data:` URIs, and "try it out"
 * calls this origin. No `upgrade-insecure-requests` (helmet's default): it
 * would break the page on a plain-HTTP development server.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
].join('; ');

/** Whether a route belongs to the OpenAPI UI (`/docs`, its assets and `swagger-ui-init.js`). */
const isDocsRoute = (url: string): boolean => url === '/docs' || url.startsWith('/docs/');

/**
 * `options` resolved once, as the header object the app's `onSend` hook
 * gives every reply (`reply.headers(...)`). Not `app.useSecurityHeaders()`:
 * its request hook writes the headers on Node's raw response, which sends
 * every header of the reply through Node's slower merge path; measured on
 * `GET /api/v1/ping`, the same twelve headers cost 19.8k req/s that way and
 * 24.1k through Fastify's reply headers (`npm run bench:http` conditions).
 * Headers helmet removes (`X-Powered-By`) are never set by Fastify.
 */
export function securityHeaderValues(options: SecurityHeadersOptions = SECURITY_HEADERS): Record<string, string> {
  const resolved = resolveSecurityHeaders(options);
  return Object.fromEntries(resolved.headers.map(([name, value]) => [name.toLowerCase(), value]));
}

/** Whether a route belongs to the cache admin dashboard (`/admin` and its assets). */
const isAdminRoute = (url: string): boolean => url === '/admin' || url.startsWith('/admin/');

const policy =
  (value: string): onSendHookHandler =>
  (_request, reply, payload, done) => {
    // After the app's onSend hook (a route's hooks run after the global ones), so this one wins.
    reply.header('content-security-policy', value);
    done(null, payload);
  };
const docsPolicy = policy(DOCS_CONTENT_SECURITY_POLICY);
const adminPolicy = policy(ADMIN_DASHBOARD_CSP);

/**
 * Gives the `/docs` routes `DOCS_CONTENT_SECURITY_POLICY` and the `/admin`
 * dashboard `ADMIN_DASHBOARD_CSP` instead of the API's: hooks on those
 * routes alone, so no other request pays for a path check. Call it before
 * the routes are registered.
 */
export function usePageContentSecurityPolicies(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const hook = isDocsRoute(route.url) ? docsPolicy : isAdminRoute(route.url) ? adminPolicy : undefined;
    if (!hook) return;
    const hooks = route.onSend;
    route.onSend = hooks === undefined ? [hook] : [...(Array.isArray(hooks) ? hooks : [hooks]), hook];
  });
}
