import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { hash } from 'node:crypto';
import { RedisConnection } from '@app/redis';
import { AUTH_RESOLVED_OPTIONS } from '../auth.constants';
import { AuthError } from '../auth.errors';
import type { ResolvedAuthOptions } from '../auth.options';
import { normalizeEmail } from '../users/user-accounts.service';
import { MemoryLoginCounters, type LoginAdmission, type LoginKeys, type LoginLimitsMs } from './login-counters';
import { clientAddressKey } from './client-address';

/**
 * Admits one attempt, atomically (the policy of `MemoryLoginCounters.begin`):
 * KEYS pair, email, block; ARGV pair limit, pair ttl ms, email limit, email
 * ttl ms, backoff base ms, backoff max ms. Returns {1, 0} when admitted (and
 * counted as a failure), {0, retry ms} when refused (not counted: a refused
 * attempt checks no password, so it must not lengthen anyone's wait).
 */
const BEGIN = `
local block = redis.call('PTTL', KEYS[3])
if block > 0 then return {0, block} end
local pair = tonumber(redis.call('GET', KEYS[1]) or '0')
if pair >= tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then return {0, ttl} end
  redis.call('DEL', KEYS[1])
end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local failures = redis.call('INCR', KEYS[2])
if failures == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
local over = failures - tonumber(ARGV[3])
if over >= 0 then
  local ms = math.min(tonumber(ARGV[6]), tonumber(ARGV[5]) * 2 ^ math.min(over, 40))
  redis.call('SET', KEYS[3], '1', 'PX', math.floor(ms))
end
return {1, 0}`;

/** Gives an attempt back: ARGV[1] '1' for a success (the pair starts afresh), '0' for an outage. */
const END = `
if ARGV[1] == '1' then redis.call('DEL', KEYS[1])
elseif tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 1`;

/**
 * One admitted login attempt; the caller reports how it ended. A wrong
 * password needs no report: the attempt was counted as a failure when
 * admitted.
 */
export interface LoginAttempt {
  /** The password was right. */
  succeeded(): Promise<void>;
  /** The attempt ended without checking the password (the database failed): uncounted. */
  released(): Promise<void>;
}

/** `Retry-After` seconds: never 0 while refused. */
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * The login failure limits, shared by every instance through Redis (one
 * script call per attempt, one more after a success), in this process's
 * memory when Redis is not configured or not answering (`available` false,
 * or the call failed): exact per instance then, never off.
 *
 * Every key of one email shares the `{…}` hash tag of that email's hash
 * (Redis Cluster: one slot per script call); emails and IPs are hashed, so
 * neither appears in a key.
 */
@Injectable()
export class LoginLimiter {
  private readonly logger = new Logger(LoginLimiter.name);
  private readonly memory = new MemoryLoginCounters();
  private readonly limits: LoginLimitsMs;
  private readonly prefix: string;
  private warned = false;

  constructor(
    @Inject(AUTH_RESOLVED_OPTIONS) options: ResolvedAuthOptions,
    @Optional() private readonly redis?: RedisConnection,
  ) {
    const login = options.throttle.login;
    this.prefix = options.prefix;
    this.limits = {
      pairLimit: login.pairLimit,
      pairTtlMs: login.pairTtl * 1000,
      emailLimit: login.emailLimit,
      emailTtlMs: login.emailTtl * 1000,
      backoffBaseMs: login.backoffBase * 1000,
      backoffMaxMs: login.backoffMax * 1000,
    };
  }

  /**
   * Admits an attempt for `email` from `ip` (counted as a failure until it
   * reports success), or throws `E_AUTH_THROTTLED` with the seconds to wait.
   */
  async begin(email: string, ip: string | undefined): Promise<LoginAttempt> {
    // An IPv6 caller is its /56: one subscriber's addresses are one caller.
    const keys = this.keys(email, clientAddressKey(ip));
    const { admission, shared } = await this.admit(keys);
    if (!admission.allowed) throw AuthError.throttled(seconds(admission.retryAfterMs));
    return {
      succeeded: () => this.end(keys, shared, true),
      released: () => this.end(keys, shared, false),
    };
  }

  private async admit(keys: LoginKeys): Promise<{ admission: LoginAdmission; shared: boolean }> {
    if (this.redis?.available) {
      try {
        const l = this.limits;
        const args = [l.pairLimit, l.pairTtlMs, l.emailLimit, l.emailTtlMs, l.backoffBaseMs, l.backoffMaxMs];
        const reply = (await this.redis.run((client) =>
          client.eval(BEGIN, { keys: [keys.pair, keys.email, keys.block], arguments: args.map(String) }),
        )) as [number, number];
        this.warned = false;
        const admission: LoginAdmission =
          reply[0] === 1 ? { allowed: true } : { allowed: false, retryAfterMs: reply[1] };
        return { admission, shared: true };
      } catch (error) {
        if (!this.warned) this.logger.warn(`login limits counted in memory until Redis answers: ${String(error)}`);
        this.warned = true;
      }
    }
    return { admission: this.memory.begin(keys, this.limits), shared: false };
  }

  /** Gives the attempt back where it was counted; a failure to do so leaves it counted (the safe side). */
  private async end(keys: LoginKeys, shared: boolean, success: boolean): Promise<void> {
    if (!shared) return success ? this.memory.succeeded(keys) : this.memory.released(keys);
    try {
      await this.redis!.run((client) =>
        client.eval(END, { keys: [keys.pair, keys.email], arguments: [success ? '1' : '0'] }),
      );
    } catch (error) {
      this.logger.warn(`a login attempt stays counted (Redis did not answer): ${String(error)}`);
    }
  }

  /** `{prefix}:rl:login:{<email hash>}:…`: one hash tag per email, so the script's keys share a slot. */
  private keys(email: string, ip: string): LoginKeys {
    const tag = hash('sha256', `email:${normalizeEmail(email)}`, 'base64url');
    const base = `${this.prefix}:rl:login:{${tag}}`;
    return { pair: `${base}:p:${hash('sha256', `ip:${ip}`, 'base64url')}`, email: `${base}:f`, block: `${base}:b` };
  }
}
