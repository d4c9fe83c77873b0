import { RECONNECT_BASE_DELAY_MS } from './redis.constants';

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half is
 * random, so a fleet of instances does not reconnect in lock-step after an
 * outage, and no delay exceeds `maxDelayMs`. It never gives up: the app must
 * go back to Redis whenever Redis comes back.
 */
export function reconnectDelay(retries: number, maxDelayMs: number, random: () => number = Math.random): number {
  const exponent = Math.min(retries, 16);
  const ceiling = Math.min(maxDelayMs, RECONNECT_BASE_DELAY_MS * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
