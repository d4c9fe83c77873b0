// `String.prototype.toWellFormed` exists on Node 20; the project's `lib` (ES2023) does not declare it.
const toWellFormed = (text: string): string => (text as string & { toWellFormed(): string }).toWellFormed();

/**
 * Longest `target` stored: above the largest the routes accept (an
 * invalidation's 100 keys of 500 characters and 100 tags of 200, as JSON,
 * every character escaped: about 141,000), so none is cut; a backstop only.
 */
export const MAX_TARGET_CHARS = 150_000;

/**
 * Longest `target` a page of the audit log shows (code points): a page of
 * 100 entries stays under about 100,000 characters, however wide the
 * invalidations were; `GET /cache/audit/:id` shows an entry whole.
 */
export const LISTED_TARGET_CHARS = 1_000;

/** Longest `detail` stored (characters, as Postgres counts them in `varchar(500)`). */
export const MAX_DETAIL_CHARS = 500;

/**
 * `text` as Postgres can store it, at most `max` characters: a NUL (which
 * no text column takes: "invalid byte sequence for encoding UTF8: 0x00") is
 * written `\0`, a lone surrogate becomes U+FFFD, and a longer text is cut on
 * a code-point boundary (never inside a surrogate pair) and ends in `...`.
 * Postgres counts code points, not UTF-16 units, so that is what is counted.
 */
export function clip(text: string, max = MAX_DETAIL_CHARS): string {
  const safe = toWellFormed(text.replaceAll('\0', '\\0'));
  // UTF-16 units are never fewer than code points: a short text needs no counting.
  if (safe.length <= max) return safe;
  const points = Array.from(safe);
  return points.length > max ? `${points.slice(0, max - 3).join('')}...` : safe;
}
