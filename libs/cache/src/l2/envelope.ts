/** An L2 entry as read back, with server-clock times. */
export interface Envelope {
  created: number;
  expires: number;
  graceUntil: number;
  schema: string;
  tags: string[];
  payload: string;
}

/**
 * Parses `v1|created|expires|graceUntil|schema|tag,tag\n<payload>`; undefined
 * for anything else (another format version, a foreign value).
 */
export function parseEnvelope(raw: string): Envelope | undefined {
  const newline = raw.indexOf('\n');
  if (newline < 0 || !raw.startsWith('v1|')) return undefined;
  const fields = raw.slice(3, newline).split('|');
  if (fields.length !== 5) return undefined;
  const [created, expires, graceUntil, schema, tags] = fields;
  return {
    created: Number(created),
    expires: Number(expires),
    graceUntil: Number(graceUntil),
    schema,
    tags: tags === '' ? [] : tags.split(','),
    payload: raw.slice(newline + 1),
  };
}
