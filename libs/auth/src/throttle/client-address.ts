import ipaddr from 'ipaddr.js';
import { isIPv4 } from 'node:net';

/**
 * The prefix length an IPv6 caller is counted by. One subscriber gets a
 * whole /64 at least (often a /56 or a /48) and may use any address in it,
 * so a limit per IPv6 address is no limit; express-rate-limit counts a /56
 * by default for the same reason.
 */
export const IPV6_PREFIX = 56;

/**
 * What the per-address limits count a caller by: its IPv4 address (an
 * IPv4-mapped IPv6 address is its IPv4 address), its IPv6 address's /56
 * network, or the text as given when it is no address (Fastify gives what
 * the socket or a trusted proxy said).
 */
export function clientAddressKey(ip: string | undefined): string {
  if (ip === undefined || ip === '') return 'unknown';
  if (isIPv4(ip)) return ip;
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.parse(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  const parts = v6.toByteArray().slice(0, IPV6_PREFIX / 8);
  while (parts.length < 16) parts.push(0);
  return `${ipaddr.fromByteArray(parts).toString()}/${IPV6_PREFIX}`;
}
