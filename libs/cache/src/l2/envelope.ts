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
  const fields = raw.slice(VERSION.length, newline).split('|');
  if (fields.length !== 5) return undefined;
  const [created, expires, graceUntil] = fields.slice(0, 3).map(time);
  if (created === undefined || expires === undefined || graceUntil === undefined) return undefined;
  const [, , , schema, tags] = fields;
  return {
    created,
    expires,
    graceUntil,
    schema,
    tags: tags === '' ? [] : tags.split(','),
    payload: raw.slice(newline + 1),
  };
}
