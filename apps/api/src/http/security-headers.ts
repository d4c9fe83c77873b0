import type { SecurityHeadersOptions } from '@nestjs/common';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';

/**
 * The headers of every response (`app.useSecurityHeaders()`: helmet 8's
 * headers and defaults, resolved once at boot, set in one request hook). The
 * API answers JSON, which a browser should never render, frame or run, so
 * its Content-Security-Policy allows nothing at all.
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

const docsPolicy: onRequestHookHandler = (_request, reply, done) => {
  // After the security hook (a route's hooks run after the global ones), so this one wins.
  reply.raw.setHeader('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
  done();
};

/**
 * Gives the `/docs` routes `DOCS_CONTENT_SECURITY_POLICY` instead of the
 * API's: a hook on those routes alone, so no other request pays for a path
 * check. Call it before the routes are registered (SwaggerModule.setup).
 */
export function useDocsContentSecurityPolicy(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    if (!isDocsRoute(route.url)) return;
    const hooks = route.onRequest;
    route.onRequest = hooks === undefined ? [docsPolicy] : [...(Array.isArray(hooks) ? hooks : [hooks]), docsPolicy];
  });
}
