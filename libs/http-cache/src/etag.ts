import { createHash } from 'node:crypto';

/**
 * A strong entity tag of the body's bytes: the same bytes give the same tag
 * on every instance. 27 base64url characters of SHA-256 (160 bits).
 */
export function strongEtag(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** Longest `If-None-Match` examined; a longer one never matches (the handler's answer is sent). */
const MAX_LENGTH = 8 * 1024;

/**
 * RFC 9110 §13.1.2: true when `If-None-Match` is `*` or lists a tag that
 * matches `etag` by weak comparison (`W/"x"` matches `"x"`). A malformed
 * list matches nothing.
 */
export function ifNoneMatch(header: unknown, etag: string): boolean {
  if (typeof header !== 'string' || header.length > MAX_LENGTH) return false;
  const wanted = opaque(etag);
  let i = 0;
  const n = header.length;
  for (;;) {
    while (i < n && (header[i] === ' ' || header[i] === '\t' || header[i] === ',')) i++;
    if (i >= n) return false;
    if (header[i] === '*') return header.trim() === '*';
    if (header.startsWith('W/', i)) i += 2;
    if (header[i] !== '"') return false;
    const end = header.indexOf('"', i + 1);
    if (end < 0) return false;
    if (header.slice(i + 1, end) === wanted) return true;
    i = end + 1;
  }
}

function opaque(etag: string): string {
  const strong = etag.startsWith('W/') ? etag.slice(2) : etag;
  return strong.slice(1, -1);
}
