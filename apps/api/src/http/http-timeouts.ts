import type { Server } from 'node:http';
import type { HttpTimeouts } from '../config/app-config';

/** The longest Node may wait between two checks of the header and request deadlines. */
const MAX_CHECK_INTERVAL_MS = 1_000;

/**
 * Puts deadlines on slow clients: a connection that has not finished its
 * headers within `headersMs`, or a request whose body has not arrived within
 * `requestMs`, is answered 408 and closed by Node, however slowly it trickles
 * bytes in; an idle keep-alive connection is closed after `keepAliveMs`.
 * Neither deadline limits a response: a handler (or a stream) may take longer
 * once its request has been received.
 *
 * Set on the server Fastify created, before it listens: the configuration is
 * only known once the Nest module graph is built, after the adapter.
 */
export function applyHttpTimeouts(server: Server, timeouts: HttpTimeouts): void {
  server.headersTimeout = timeouts.headersMs;
  server.requestTimeout = timeouts.requestMs;
  server.keepAliveTimeout = timeouts.keepAliveMs;
  // Node checks both deadlines on a timer (every 30 s unless told), so a
  // deadline fires up to one interval late; the timer starts at `listen`.
  // The property is read there too, though @types/node declares it only as a constructor option.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = checkIntervalMs(timeouts);
}

/** A quarter of the shorter deadline, at most `MAX_CHECK_INTERVAL_MS`. */
export function checkIntervalMs(timeouts: HttpTimeouts): number {
  return Math.max(
    10,
    Math.min(MAX_CHECK_INTERVAL_MS, Math.floor(Math.min(timeouts.headersMs, timeouts.requestMs) / 4)),
  );
}
