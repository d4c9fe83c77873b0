import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Header carrying the request id in and out. */
export const REQUEST_ID_HEADER = 'x-request-id';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Reuses a well-formed incoming `x-request-id` (so a trace crosses services),
 * otherwise mints a UUID. The id is stored on the raw request, where both
 * Fastify and pino-http read it, so logs and the response header agree.
 */
export function requestId(req: IncomingMessage): string {
  const existing = (req as IncomingMessage & { id?: unknown }).id;
  if (typeof existing === 'string') return existing;
  const header = req.headers[REQUEST_ID_HEADER];
  const id = typeof header === 'string' && SAFE_ID.test(header) ? header : randomUUID();
  (req as IncomingMessage & { id?: string }).id = id;
  return id;
}
