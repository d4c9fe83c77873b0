/**
 * The request `Cache-Control` directives (RFC 9111 §5.2.1) the HTTP cache
 * honours:
 *
 * - `no-store`: the response is not stored, and not served from the cache either.
 * - `no-cache` (or `Pragma: no-cache` without `Cache-Control`), `max-age=0`:
 *   no stored response is used; the handler answers, and its response is not stored.
 * - `max-age=N`: a stored response older than N seconds is not used (as above).
 * - `only-if-cached`: a stored response or 504, never the handler, whatever
 *   else the header says: with `no-cache` or `max-age=0` always 504 (no
 *   stored response may be used, and the handler may not run), with
 *   `max-age=N` only a response at most N seconds old; `no-store` changes
 *   nothing then (nothing is stored).
 *
 * A header longer than 1,024 characters is read as `no-store`: it is no
 * real client's, and ignoring it would store what it may have asked not to.
 *
 * `max-stale`, `min-fresh` and `no-transform` are ignored: a stored response
 * is never stale with respect to a write (writes invalidate it), and the
 * cache never transforms one.
 */
export interface RequestDirectives {
  noStore: boolean;
  /** Do not use a stored response older than this (seconds); 0 for `no-cache`. */
  maxAge?: number;
  onlyIfCached: boolean;
}

const NONE: RequestDirectives = Object.freeze({ noStore: false, onlyIfCached: false });

/** Longest header read: a longer value is read as `no-store`. */
const MAX_LENGTH = 1024;

const OVERSIZED: RequestDirectives = Object.freeze({ noStore: true, onlyIfCached: false });

export function parseRequestDirectives(cacheControl: unknown, pragma?: unknown): RequestDirectives {
  if (typeof cacheControl !== 'string') {
    return typeof pragma === 'string' && /(^|[\s,])no-cache($|[\s,])/i.test(pragma)
      ? { noStore: false, maxAge: 0, onlyIfCached: false }
      : NONE;
  }
  if (cacheControl.length > MAX_LENGTH) return OVERSIZED;
  const out: RequestDirectives = { noStore: false, onlyIfCached: false };
  for (const part of cacheControl.split(',')) {
    const [rawName, rawValue] = part.split('=', 2);
    const name = rawName.trim().toLowerCase();
    if (name === 'no-store') out.noStore = true;
    else if (name === 'no-cache') out.maxAge = 0;
    else if (name === 'only-if-cached') out.onlyIfCached = true;
    else if (name === 'max-age') {
      const seconds = parseSeconds(rawValue);
      if (seconds !== undefined) out.maxAge = Math.min(out.maxAge ?? Infinity, seconds);
    }
  }
  return out;
}

/** delta-seconds (RFC 9111 §1.2.2), quoted or not; undefined when invalid. */
function parseSeconds(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim().replace(/^"(.*)"$/, '$1');
  return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
}
