/** An L2 entry as read back, with server-clock times. */
export interface Envelope {
  created: number;
  expires: number;
  graceUntil: number;
  schema: string;
  tags: string[];
  payload: string;
}

/** The format version every envelope starts with. */
const VERSION = 'v1|';

/**
 * Formats an envelope as `v1|created|expires|graceUntil|schema|tag,tag\n<payload>`,
 * the bytes `parseEnvelope` reads (and the Lua scripts write). Schema and tags
 * must not contain `|`, `,` or a newline (`safeSegment` and the schema check
 * guarantee it).
 */
export function formatEnvelope(envelope: Envelope): string {
  const { created, expires, graceUntil, schema, tags, payload } = envelope;
  return `${VERSION}${created}|${expires}|${graceUntil}|${schema}|${tags.join(',')}\n${payload}`;
}

/** A time field: a finite number; `Number` alone would read '' as 0 and 'abc' as NaN. */
function time(field: string): number | undefined {
  const value = field === '' ? Number.NaN : Number(field);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Parses `v1|created|expires|graceUntil|schema|tag,tag\n<payload>`; undefined
 * for anything else (another format version, a foreign value, a header whose
 * times are not numbers).
 */
export function parseEnvelope(raw: string): Envelope | undefined {
  const newline = raw.indexOf('\n');
  if (newline < 0 || !raw.startsWith(VERSION)) return undefined;
  // Five `|`-separated fields between the version and the newline, read in place (no split arrays).
  const a = raw.indexOf('|', VERSION.length);
  const b = a < 0 ? -1 : raw.indexOf('|', a + 1);
  const c = b < 0 ? -1 : raw.indexOf('|', b + 1);
  const d = c < 0 ? -1 : raw.indexOf('|', c + 1);
  if (d < 0 || d > newline || raw.lastIndexOf('|', newline) !== d) return undefined;
  const created = time(raw.slice(VERSION.length, a));
  const expires = time(raw.slice(a + 1, b));
  const graceUntil = time(raw.slice(b + 1, c));
  if (created === undefined || expires === undefined || graceUntil === undefined) return undefined;
  return {
    created,
    expires,
    graceUntil,
    schema: raw.slice(c + 1, d),
    tags: d + 1 === newline ? [] : raw.slice(d + 1, newline).split(','),
    payload: raw.slice(newline + 1),
  };
}
