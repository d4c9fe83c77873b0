import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ReconnectStrategyError,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from '@redis/client';
import { RedisTimeoutError, RedisUnavailableError } from './redis.errors';

/** Why a connection attempt failed, in words an operator can act on. */
export type ConnectionFailureKind = 'auth' | 'tls' | 'network' | 'timeout' | 'other';

/** Server replies that mean the credentials were refused (or not expected). */
const AUTH_REPLY = /^(WRONGPASS|NOAUTH|NOPERM)\b|^ERR (invalid password|AUTH\b)/;

/**
 * Node's TLS and OpenSSL error codes: certificate verification
 * (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `SELF_SIGNED_CERT_IN_CHAIN`,
 * `ERR_TLS_CERT_ALTNAME_INVALID`, `CERT_HAS_EXPIRED`) and protocol errors
 * (`ERR_SSL_WRONG_VERSION_NUMBER`).
 */
const TLS_CODE = /CERT|SSL|TLS|UNABLE_TO_(VERIFY|GET)|SELF_SIGNED/;

/** Socket-level codes: nothing listens, the host is unknown or unreachable. */
const NETWORK_CODE = /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE)$/;

/** Classifies the error of a failed connection attempt (`undefined`: no error, the deadline passed). */
export function connectionFailureKind(error: Error | undefined): ConnectionFailureKind {
  if (!error) return 'timeout';
  const code = errorCode(error);
  if (AUTH_REPLY.test(error.message)) return 'auth';
  if (TLS_CODE.test(code)) return 'tls';
  if (NETWORK_CODE.test(code)) return 'network';
  return 'other';
}

/** node-redis's errors of a connection that is lost, closed, not yet up or too slow (never an error reply). */
const CONNECTION_ERRORS = [
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ReconnectStrategyError,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
];

/**
 * Whether `error` means Redis could not be asked: our command deadline
 * passed (`RedisTimeoutError`), Redis is configured and unreachable
 * (`RedisUnavailableError`), node-redis lost or has no connection, or the
 * socket failed (refused, reset, unreachable, TLS). False for an error reply
 * (Redis answered and refused the command: bad input or a bug) and for any
 * other error (a bug here), which must not be mistaken for an outage.
 */
export function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof RedisTimeoutError || error instanceof RedisUnavailableError) return true;
  if (CONNECTION_ERRORS.some((type) => error instanceof type)) return true;
  const code = errorCode(error);
  return NETWORK_CODE.test(code) || TLS_CODE.test(code);
}

/**
 * The failure of a connection attempt as the end of a sentence starting
 * "Redis at <url> …", e.g. `refused authentication (WRONGPASS invalid
 * username-password pair or user is disabled.): check the password in the URL`.
 * The caller redacts it (`redactSecrets`) before logging.
 */
export function describeConnectionFailure(error: Error | undefined, connectTimeoutMs: number): string {
  const kind = connectionFailureKind(error);
  if (kind === 'timeout' || !error) return `did not answer within ${connectTimeoutMs} ms`;
  const detail = describeError(error);
  switch (kind) {
    case 'auth':
      return `refused authentication (${detail}): check the user name and password in the URL`;
    case 'tls':
      return `failed the TLS handshake (${detail}): check the rediss:// scheme and the trusted CA`;
    case 'network':
      return `could not be reached (${detail})`;
    default:
      return `could not be connected to (${detail})`;
  }
}

/** `CODE: message`, or the message alone when the error has no code. */
export function describeError(error: Error): string {
  const code = errorCode(error);
  return code && !error.message.startsWith(code) ? `${code}: ${error.message}` : error.message;
}

function errorCode(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : '';
}
