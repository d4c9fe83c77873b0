import { isIP } from 'node:net';

/** The address ranges Fastify (proxy-addr) knows by name. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** What `TRUST_PROXY` says: the proxies whose `X-Forwarded-For` to believe. */
export type TrustProxy = readonly string[];

const isRange = (entry: string): boolean => {
  if (NAMED_RANGES.has(entry) || isIP(entry) !== 0) return true;
  const slash = entry.indexOf('/');
  if (slash < 0) return false;
  const version = isIP(entry.slice(0, slash));
  const bits = entry.slice(slash + 1);
  return version !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128);
};

/**
 * Reads `TRUST_PROXY`: unset (or `false`) believes no proxy; else the
 * addresses, CIDR ranges and named ranges (`loopback`, `linklocal`,
 * `uniquelocal`) of the proxies, comma-separated. Throws a message for
 * anything else: `true`, since believing every `X-Forwarded-For` lets any
 * client choose its own address and so escape the per-address limits, and
 * a hop count, which cannot tell a proxy from a client (Fastify 5 trusts
 * nobody for one).
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy | undefined {
  const value = raw?.trim() ?? '';
  if (value === '' || value === 'false') return undefined;
  if (value === 'true' || /^\d+$/.test(value))
    throw new Error(
      'must list the proxies (addresses, CIDR ranges, loopback): true, or a count, would let a client set its own address',
    );
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.find((entry) => !isRange(entry));
  if (bad !== undefined)
    throw new Error(
      `"${bad.slice(0, 60)}" is no address, CIDR range or named range (loopback, linklocal, uniquelocal)`,
    );
  return entries;
}
