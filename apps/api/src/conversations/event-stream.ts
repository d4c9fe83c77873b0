import { Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { TokenSink } from '@app/ai';
import { isDatabaseUnavailable } from '../http/database-errors';
import { domainError } from '../http/domain-errors';
import { securityHeaderValues } from '../http/security-headers';

const logger = new Logger('EventStream');

/** A hijacked reply skips the app's onSend hook: the stream sets the same security headers itself. */
const SECURITY_HEADERS = securityHeaderValues().api;

/** Whether the client asked for server-sent events (`Accept: text/event-stream`). */
export function wantsEventStream(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}

/**
 * Answers with server-sent events: `token` events (`{"text": …}`) as the
 * answer comes, then `done` with the stored exchange, or `error` with a
 * status and a client-safe message. The response is taken over from Fastify
 * (`hijack`) once the request was accepted, so everything before (validation,
 * access, the stored user message) answers as plain JSON. A client that goes
 * away does not stop the answer: it is still stored, only no longer sent.
 */
export async function streamExchange<T>(
  reply: FastifyReply,
  answer: (onToken: TokenSink) => Promise<T>,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    // Proxies (nginx) must pass each event on at once.
    'x-accel-buffering': 'no',
    'x-request-id': String(reply.request.id),
  });
  const send = (event: string, data: unknown) => {
    if (!raw.destroyed && !raw.writableEnded) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  try {
    send('done', await answer((text) => send('token', { text })));
  } catch (error) {
    send('error', streamError(error));
  } finally {
    if (!raw.destroyed) raw.end();
  }
}

/** The `error` event of a failure: as the exception filter would answer it, without its logging. */
function streamError(error: unknown): { statusCode: number; message: string } {
  const known = domainError(error);
  if (known) {
    if (known.status >= 500) logger.warn(`stream failed: ${known.message}`);
    return { statusCode: known.status, message: known.message };
  }
  if (isDatabaseUnavailable(error)) {
    logger.warn(`stream failed: database unavailable: ${error instanceof Error ? error.message : String(error)}`);
    return { statusCode: 503, message: 'The database is unavailable; retry later' };
  }
  logger.error(`stream failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return { statusCode: 500, message: 'Internal server error' };
}
