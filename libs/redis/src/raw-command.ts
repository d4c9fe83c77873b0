import { createHash } from 'node:crypto';
import { ErrorReply } from '@redis/client';
import type { RedisCommander } from './redis-connection.service';

/**
 * A raw command on either client: a cluster routes it by `key` (no key: any
 * master); raw commands here are writes, scripts or reads that must see the
 * latest write, so never a replica.
 */
export function sendRaw<T>(client: RedisCommander, args: readonly string[], key?: string): Promise<T> {
  if ('masters' in client) return client.sendCommand<T>(key, false, args as string[]);
  return client.sendCommand<T>(args);
}

/** A Lua script with its SHA-1, sent by `sendScript`. */
export interface RedisScript {
  readonly source: string;
  readonly sha: string;
}

export const redisScript = (source: string): RedisScript => ({
  source,
  sha: createHash('sha1').update(source).digest('hex'),
});

/**
 * Runs `script` on `client` (inside `RedisConnection.run`, under its
 * deadline): `EVALSHA`, then `EVAL` when Redis lost its script cache
 * (restart, `SCRIPT FLUSH`, a failover to a replica that never ran it).
 * Raw arguments through `sendCommand`: the typed `evalSha` copies and
 * re-parses them on every call. On a cluster it goes to `keys[0]`'s master.
 */
export async function sendScript<T = unknown>(
  client: RedisCommander,
  script: RedisScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<T> {
  const command = ['EVALSHA', script.sha, String(keys.length), ...keys, ...args];
  try {
    return await sendRaw<T>(client, command, keys[0]);
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
    return sendRaw<T>(client, ['EVAL', script.source, ...command.slice(2)], keys[0]);
  }
}

/**
 * Whether `error` is an error reply: the server answered and refused this one
 * command (a wrong type, a script's own error), as opposed to a lost
 * connection or a missed deadline, which say nothing about the command and
 * everything about Redis's health.
 */
export function isErrorReply(error: unknown): error is ErrorReply {
  return error instanceof ErrorReply;
}
