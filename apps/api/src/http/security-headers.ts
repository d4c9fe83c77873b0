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
 * Helmet's headers that act only on a document a browser renders, loads
 * subresources for or downloads (an HTML page), never on a JSON response:
 * `Cross-Origin-Opener-Policy` and `Origin-Agent-Cluster` apply to a
 * top-level document, `X-DNS-Prefetch-Control` to the links in a page,
 * `X-Download-Options` to an HTML file Internet Explorer 8 opens,
 * `X-XSS-Protection: 0` turns off the XSS filter of old browsers' HTML
 * parsers, and `X-Permitted-Cross-Domain-Policies` tells Flash and Acrobat
 * how to treat the site's `crossdomain.xml`, which this app does not serve.
 * OWASP's REST Security Cheat Sheet lists them among the headers an API that
 * never returns HTML does not need; the pages (`/docs`, `/admin`) get them.
 */
export const DOCUMENT_ONLY_HEADERS: readonly string[] = [
  'cross-origin-opener-policy',
  'origin-agent-cluster',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

/** The headers of one kind of response, resolved once (see `securityHeaderValues`). */
export interface SecurityHeaderSets {
  /**
   * Every response: `Content-Security-Policy`, `Cross-Origin-Resource-Policy`,
   * `Referrer-Policy`, `Strict-Transport-Security`, `X-Content-Type-Options`,
   * `X-Frame-Options` (the OWASP REST set, plus the CORP that keeps another
   * origin's page from embedding a JSON response).
   */
  api: Readonly<Record<string, string>>;
  /** What an HTML page adds to `api`: `DOCUMENT_ONLY_HEADERS` with helmet's values. */
  document: Readonly<Record<string, string>>;
}

/**
 * `options` resolved once (Nest 12's resolver, the one behind
 * `app.useSecurityHeaders()`) and split into the set every reply gets from the
 * app's `onSend` hook (`reply.headers(...)`) and what the pages add. Not
 * `app.useSecurityHeaders()`: its request hook writes the headers on Node's
 * raw response, which sends every header of the reply through Node's slower
 * merge path; measured on `GET /api/v1/ping`, the same twelve headers cost
 * 19.8k req/s that way and 24.1k through Fastify's reply headers
 * (`npm run bench:http` conditions). Every header a reply carries is a cost
 * of every request (Node checks each name and value, then writes it), hence
 * the split. Headers helmet removes (`X-Powered-By`) are never set by Fastify.
 */
export function securityHeaderValues(options: SecurityHeadersOptions = SECURITY_HEADERS): SecurityHeaderSets {
  const api: Record<string, string> = {};
  const document: Record<string, string> = {};
  for (const [name, value] of resolveSecurityHeaders(options).headers) {
    const key = name.toLowerCase();
    (DOCUMENT_ONLY_HEADERS.includes(key) ? document : api)[key] = value;
  }
  return { api, document };
}

/** Whether a route belongs to the cache admin dashboard (`/admin` and its assets). */
const isAdminRoute = (url: string): boolean => url === '/admin' || url.startsWith('/admin/');

/** An HTML page's headers: the document-only ones and the page's own policy. */
const pageHeaders = (document: Readonly<Record<string, string>>, policy: string): onSendHookHandler => {
  const headers = { ...document, 'content-security-policy': policy };
  return (_request, reply, payload, done) => {
    // After the app's onSend hook (a route's hooks run after the global ones), so this policy wins.
    reply.headers(headers);
    done(null, payload);
  };
};

/**
 * Gives the `/docs` routes `DOCS_CONTENT_SECURITY_POLICY`, the `/admin`
 * dashboard `ADMIN_DASHBOARD_CSP` instead of the API's, and both the
 * `document` headers (`securityHeaderValues`): hooks on those routes alone,
 * so no other request pays for a path check. Call it before the routes are
 * registered.
 */
export function usePageSecurityHeaders(fastify: FastifyInstance, document: Readonly<Record<string, string>>): void {
  const docsPolicy = pageHeaders(document, DOCS_CONTENT_SECURITY_POLICY);
  const adminPolicy = pageHeaders(document, ADMIN_DASHBOARD_CSP);
  fastify.addHook('onRoute', (route) => {
    const hook = isDocsRoute(route.url) ? docsPolicy : isAdminRoute(route.url) ? adminPolicy : undefined;
    if (!hook) return;
    const hooks = route.onSend;
    route.onSend = hooks === undefined ? [hook] : [...(Array.isArray(hooks) ? hooks : [hooks]), hook];
  });
}
