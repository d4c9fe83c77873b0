import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** What Node's HTTP parser reports, and the answer each gets (Fastify's defaults, in our error body). */
const ANSWERS: Record<string, { status: number; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive within the request timeout' },
  HPE_HEADER_OVERFLOW: { status: 431, message: 'The request headers are too large' },
};

/**
 * Fastify's `clientErrorHandler`: the answer to a request Node's HTTP server
 * rejects before Fastify sees it (its headers or body took longer than the
 * timeouts, oversized headers, unparsable HTTP), written on the socket as
 * Fastify's default handler does, but with the API's error body and the
 * security headers every other response carries. A reset connection gets
 * nothing (there is no one to answer).
 */
export function clientErrorHandler(
  securityHeaders: Readonly<Record<string, string>>,
): (error: NodeJS.ErrnoException, socket: Socket) => void {
  const extra = Object.entries(securityHeaders)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, message } = ANSWERS[error.code ?? ''] ?? { status: 400, message: 'Malformed HTTP request' };
    const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], message });
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
}
