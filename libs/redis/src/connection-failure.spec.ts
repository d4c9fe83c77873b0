import { ClientClosedError, ClientOfflineError, ErrorReply, SocketClosedUnexpectedlyError } from '@redis/client';
import { connectionFailureKind, describeConnectionFailure, isConnectionFailure } from './connection-failure';
import { RedisTimeoutError, RedisUnavailableError } from './redis.errors';

/** An error as node-redis or Node's socket layer raises it. */
const error = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe(describeConnectionFailure.name, () => {
  it('names a refused password as an authentication failure', () => {
    const wrongPass = error('WRONGPASS invalid username-password pair or user is disabled.');
    expect(connectionFailureKind(wrongPass)).toBe('auth');
    expect(describeConnectionFailure(wrongPass, 2_000)).toBe(
      'refused authentication (WRONGPASS invalid username-password pair or user is disabled.): ' +
        'check the user name and password in the URL',
    );
    expect(connectionFailureKind(error('NOAUTH Authentication required.'))).toBe('auth');
    expect(connectionFailureKind(error('ERR AUTH <password> called without any password configured'))).toBe('auth');
  });

  it('names certificate and protocol errors as TLS failures', () => {
    const untrusted = error('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(describeConnectionFailure(untrusted, 2_000)).toMatch(
      /^failed the TLS handshake \(UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate\)/,
    );
    expect(
      connectionFailureKind(error('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN')),
    ).toBe('tls');
    expect(connectionFailureKind(error('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'))).toBe('tls');
  });

  it('names socket errors as unreachable, and no error as a missed deadline', () => {
    const refused = error('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED');
    expect(describeConnectionFailure(refused, 2_000)).toBe(
      'could not be reached (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1)',
    );
    expect(describeConnectionFailure(undefined, 750)).toBe('did not answer within 750 ms');
    expect(describeConnectionFailure(error('Socket closed unexpectedly'), 2_000)).toBe(
      'could not be connected to (Socket closed unexpectedly)',
    );
  });
});

describe(isConnectionFailure.name, () => {
  it('counts a missed deadline, an unreachable Redis and a lost or refused connection', () => {
    for (const failure of [
      new RedisTimeoutError('Redis command did not answer within 500 ms'),
      new RedisUnavailableError('Redis at redis://127.0.0.1:1 could not be reached'),
      new ClientClosedError(),
      new ClientOfflineError(),
      new SocketClosedUnexpectedlyError(),
      error('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'),
      error('read ECONNRESET', 'ECONNRESET'),
      error('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'),
    ])
      expect([failure.message, isConnectionFailure(failure)]).toEqual([failure.message, true]);
  });

  it('does not count an error reply (Redis answered) or any other error (a bug) as one', () => {
    for (const other of [
      new ErrorReply('ERR invalid cursor'),
      new ErrorReply('WRONGTYPE Operation against a key holding the wrong kind of value'),
      new TypeError("Cannot read properties of undefined (reading 'scan')"),
      error('Socket closed unexpectedly'),
    ])
      expect([other.message, isConnectionFailure(other)]).toEqual([other.message, false]);
    expect(isConnectionFailure('ECONNREFUSED')).toBe(false);
    expect(isConnectionFailure(undefined)).toBe(false);
  });
});
