import { StreamableFile } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { strongEtag } from './etag';

/** A response as the HTTP cache stores it: everything a hit sends, computed once. */
export interface StoredResponse {
  status: number;
  /** Headers the handler set (not the per-request ones set before it, never `Set-Cookie`). */
  headers: ReadonlyArray<readonly [string, string]>;
  contentType: string;
  body: Buffer;
  etag: string;
  /** Epoch ms at which it was built. */
  storedAt: number;
  /** Epoch ms after which it is stale (served only inside grace, when the handler fails). */
  expiresAt: number;
}

/** Why a response was not stored. */
export type Unstorable = 'status' | 'cookie' | 'cache-control' | 'body' | 'size';

/** Headers a stored response never replays: per-request, hop-by-hop, or set by the cache itself. */
const NOT_REPLAYED = new Set([
  'set-cookie',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'date',
  'etag',
  'age',
  'vary',
  'cache-control',
  'x-cache',
]);

/**
 * The handler's result as a storable response, or why it cannot be stored:
 * a status outside 2xx (or 206), a `Set-Cookie`, a `Cache-Control` of the
 * handler's saying `no-store` or `private`, a body that is not plain data
 * (streams, files, `undefined`), or one over `maxBytes`. The body is what
 * Fastify would have sent: JSON for objects, strings and buffers as they are.
 */
export function toStoredResponse(
  value: unknown,
  reply: FastifyReply,
  before: ReadonlySet<string>,
  limits: { maxBytes: number; ttlMs: number },
): StoredResponse | Unstorable {
  const status = reply.statusCode;
  if (status < 200 || status > 299 || status === 206) return 'status';
  const headers = reply.getHeaders();
  if (headers['set-cookie'] !== undefined) return 'cookie';
  const control = headers['cache-control'];
  if (control !== undefined && /no-store|private/i.test(String(control))) return 'cache-control';
  const declaredType = headers['content-type'];
  let body: Buffer;
  let contentType: string;
  if (Buffer.isBuffer(value)) {
    body = value;
    contentType = typeof declaredType === 'string' ? declaredType : 'application/octet-stream';
  } else if (typeof value === 'string') {
    body = Buffer.from(value);
    contentType = typeof declaredType === 'string' ? declaredType : 'text/plain; charset=utf-8';
  } else if (value === undefined || value === null || value instanceof StreamableFile || value instanceof Readable) {
    return 'body';
  } else if (typeof value === 'object' || typeof value === 'number' || typeof value === 'boolean') {
    const text = JSON.stringify(value);
    if (text === undefined) return 'body';
    body = Buffer.from(text);
    contentType = typeof declaredType === 'string' ? declaredType : 'application/json; charset=utf-8';
  } else {
    return 'body';
  }
  if (body.length > limits.maxBytes) return 'size';
  const replayed: Array<readonly [string, string]> = [];
  for (const [name, raw] of Object.entries(headers)) {
    if (before.has(name) || NOT_REPLAYED.has(name) || raw === undefined) continue;
    replayed.push([name, Array.isArray(raw) ? raw.join(', ') : String(raw)]);
  }
  const storedAt = Date.now();
  return {
    status,
    headers: replayed,
    contentType,
    body,
    etag: strongEtag(body),
    storedAt,
    expiresAt: storedAt + limits.ttlMs,
  };
}
