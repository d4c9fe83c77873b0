/** How long a peer counts as degraded after its last word on the channel (it repeats it every second). */
export const PEER_DEGRADED_MS = 3_000;
/** How often a degraded instance says so on the channel. */
export const DEGRADED_HEARTBEAT_MS = 1_000;

/**
 * What this instance knows of the others through the second invalidation
 * channel: whether one of them cannot reach Redis ("degraded"). Such a peer's
 * invalidations reach the others through the channel only, never Redis: its
 * tombstones and tag markers are not written, so an L2 entry it invalidated
 * still reads as valid, and its messages are not on the bus. While a peer is
 * degraded, this instance therefore reads neither L2 nor an unbarriered L1,
 * as if its own breaker were open.
 */
export class PeerState {
  private degradedUntil = 0;

  /** A peer said it is degraded. */
  noteDegraded(now = Date.now()): void {
    this.degradedUntil = Math.max(this.degradedUntil, now + PEER_DEGRADED_MS);
  }

  /** True while some peer said so within `PEER_DEGRADED_MS`. */
  get degraded(): boolean {
    return Date.now() < this.degradedUntil;
  }
}
