import { Logger } from '@nestjs/common';
import { BackgroundScope, type RedisConnection } from '@app/redis';
import type { CacheBus } from '../bus/cache-bus';
import type { BreakerState } from '../circuit-breaker';
import type { EngineContext } from './engine-context';
import type { Invalidator } from './invalidator';
import type { RemoteTier } from './remote-tier';

/**
 * The breaker's life with Redis: it opens when the connection goes down (or
 * calls fail), and while it is open a probe pings Redis, waits for the bus to
 * be heard again, replays the invalidations queued meanwhile and applies the
 * reconnect rule (drop L1: it may have missed invalidations) before closing it.
 */
export class Recovery {
  private readonly logger = new Logger('TieredCache');
  private probe?: NodeJS.Timeout;
  /** Breaker logs and the probe run in the cache's own context, not in the request that tripped it. */
  private readonly background = new BackgroundScope('TieredCache.breaker');
  private recovering = false;
  private unsubscribe?: () => void;

  constructor(
    private readonly ctx: EngineContext,
    private readonly redis: RedisConnection | undefined,
    private readonly remote: RemoteTier,
    private readonly bus: CacheBus | undefined,
    private readonly invalidator: Invalidator,
  ) {
    if (remote.configured) remote.breaker.onChange((state) => this.onBreakerChange(state));
  }

  /** Subscribes to the bus and follows the connection's state. */
  async start(): Promise<void> {
    if (!this.redis || !this.remote.configured) return;
    const { breaker } = this.remote;
    this.unsubscribe = this.redis.onStateChange((event) => (event === 'down' ? breaker.trip() : this.startProbe()));
    // Until the bus is heard, L1 cannot be kept coherent: start "open" and let
    // the probe close the breaker (it waits for the subscriber too).
    if (!(await this.redis.whenFirstAttemptDone()) || !this.redis.subscriberReady) {
      breaker.trip();
      return;
    }
    await this.bus?.start().catch((error: unknown) => {
      this.logger.warn(`bus subscription failed: ${String(error)}`);
      breaker.trip();
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    clearInterval(this.probe);
    this.probe = undefined;
    await this.bus?.stop();
  }

  /**
   * While the breaker is open (or queued invalidations wait), probe Redis. The
   * timer is armed in the background scope: a failed write of some request
   * may start it.
   */
  startProbe(): void {
    if (this.probe || !this.redis) return;
    this.background.run(() => {
      this.probe = setInterval(() => void this.tryRecover(), this.ctx.options.probeIntervalMs);
      this.probe.unref();
    });
  }

  /** One probe: on success replay, apply the reconnect rule, close the breaker. */
  async tryRecover(): Promise<void> {
    if (this.recovering || !this.redis || !this.remote.configured) return;
    void this.invalidator.announceDegraded();
    this.recovering = true;
    try {
      await this.redis.ping();
      // The bus must hear again before L1 is trusted: a lost subscriber
      // connection would otherwise keep stale copies with the breaker closed.
      if (!this.redis.subscriberReady) throw new Error('subscriber not connected yet');
      await this.bus?.start();
      await this.invalidator.replayPending();
      clearInterval(this.probe);
      this.probe = undefined;
      // Closed: the probe only had a failed write's deletes to replay.
      if (this.remote.breaker.closed) return;
      // Reconnect rule: any L1 entry may have missed an invalidation published
      // while this instance could not hear the bus, and there is no log to
      // tell which: drop them all (L2 refills L1 within one round trip each).
      this.invalidator.dropL1();
      this.remote.breaker.close();
    } catch (error) {
      this.logger.debug(`Redis probe failed: ${String(error)}`);
    } finally {
      this.recovering = false;
    }
  }

  private onBreakerChange(state: BreakerState): void {
    this.ctx.stats.breakerChanged(state);
    this.background.run(() => {
      if (state === 'open') {
        this.logger.warn('Redis unavailable: breaker open, serving from L1 and loaders');
        void this.invalidator.announceDegraded(true);
        this.startProbe();
      } else {
        this.logger.log('Redis back: breaker closed');
      }
    });
  }
}
