import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { RedisConnection } from '@app/redis';
import type { Repository } from 'typeorm';
import { AuthError } from '../auth.errors';
import { AUTH_OPTIONS } from '../auth.module-definition';
import { resolveAuthOptions, type AuthModuleOptions, type ResolvedAuthOptions } from '../auth.options';
import { RevocationEntity } from '../entities/revocation.entity';
import { RevocationBus } from './revocation-bus';
import { RevocationSet, type Revocation } from './revocation-set';

/** Rows created this long before the previous poll are read again: a slow insert commits after its `created_at`. */
const POLL_OVERLAP_MS = 30_000;
/** Expired rows are deleted from Postgres about this often. */
const PURGE_EVERY_MS = 5 * 60_000;

/**
 * With no successful read from Postgres for this long (at least; 10 polls when
 * that is longer) and no bus to hear revocations on, the state is unknown
 * again and checks fail closed.
 */
const MAX_STALE_MS = 60_000;

/**
 * While the bus cannot deliver (Redis down, or not subscribed), and for
 * `SETTLE_MS` after it came back (a subscription can lag the connection's
 * return by a few milliseconds), Postgres is read at least this often: the
 * bound on how late another instance refuses a revoked token is then this
 * interval, not `revocationPollMs`.
 */
const UNCOVERED_POLL_MS = 500;
const SETTLE_MS = 5_000;

/** How long ended sessions stay in Postgres. */
const ENDED_SESSION_RETENTION = '1 day';

/**
 * Token revocation that survives Redis loss. Postgres holds the truth; each
 * instance keeps every unexpired revocation in memory (loaded at boot,
 * updated by the bus, re-read after a Redis reconnect and every
 * `revocationPollMs`), so a check is a memory lookup that `FLUSHALL`, eviction
 * or a Redis restart cannot undo. Until the first load succeeds the state is
 * unknown and `isRevoked` fails closed; it fails closed again when Postgres
 * has not been read for `MAX_STALE_MS` and the bus cannot vouch for the
 * time since (not subscribed, or a connection lost since the last read).
 */
@Injectable()
export class RevocationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RevocationService.name);
  private readonly options: ResolvedAuthOptions;
  private readonly revoked = new RevocationSet();
  private readonly bus?: RevocationBus;
  private loaded = false;
  /** `performance.now()` until which the last successful read vouches for the set. */
  private freshUntil = 0;
  /** Bumped whenever a Redis connection is lost: bus messages may have been missed since. */
  private epoch = 0;
  /** The bus has been listening, without a loss, since before the last successful read. */
  private busCovers = false;
  /** Database time from which the next poll reads. */
  private since?: Date;
  private lastPurge = 0;
  /** `performance.now()` when the last poll started. */
  private lastPollAt = 0;
  /** `performance.now()` until which polls run every `UNCOVERED_POLL_MS` although the bus listens. */
  private settlingUntil = 0;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** A reload was asked for while a poll ran; that poll may have read before the missed revocations committed. */
  private reloadPending = false;
  private unwatch?: () => void;

  constructor(
    @InjectRepository(RevocationEntity) private readonly rows: Repository<RevocationEntity>,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
    @Optional() private readonly redis?: RedisConnection,
  ) {
    this.options = resolveAuthOptions(options);
    if (redis?.enabled) this.bus = new RevocationBus(redis, this.options.prefix, (r) => this.revoked.add(r));
  }

  /** True once the revocations have been read from Postgres at least once. */
  get ready(): boolean {
    return this.loaded;
  }

  /** Unexpired revocations held in memory. */
  get size(): number {
    return this.revoked.size;
  }

  /** Whether a token is revoked; `E_AUTH_UNAVAILABLE` while the state was never loaded. */
  isRevoked(token: { jti: string; sid: string }): boolean {
    if (!this.loaded) throw AuthError.unavailable();
    if (performance.now() > this.freshUntil && !(this.busCovers && this.bus?.listening)) {
      throw AuthError.unavailable();
    }
    return this.revoked.has('jti', token.jti) || this.revoked.has('sid', token.sid);
  }

  /**
   * Records revocations: Postgres first (if that fails, nothing is claimed
   * and the caller gets `E_AUTH_UNAVAILABLE`), then this instance's memory,
   * then Redis and the bus for the other instances.
   */
  async revoke(revocations: Revocation[]): Promise<void> {
    if (revocations.length === 0) return;
    try {
      await this.rows.insert(
        revocations.map((r) => ({ kind: r.kind, subject: r.subject, expiresAt: new Date(r.expiresAt) })),
      );
    } catch (error) {
      throw AuthError.unavailable(error);
    }
    this.revoked.add(revocations);
    await this.bus?.publish(revocations);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.redis && this.bus) {
      // After a reconnect, bus messages may have been missed: read Postgres again.
      this.unwatch = this.redis.onStateChange((event) => {
        if (event === 'ready') {
          this.settlingUntil = performance.now() + SETTLE_MS;
          this.refresh('reconnect');
        } else {
          this.epoch++;
          this.busCovers = false;
        }
      });
    }
    const tick = Math.min(this.options.revocationPollMs, UNCOVERED_POLL_MS);
    this.timer = setInterval(() => this.tick(tick), tick);
    this.timer.unref();
    await this.bus?.subscribe().catch((e: unknown) => this.logger.warn(`auth bus: ${String(e)}`));
    await this.poll();
    if (!this.loaded) this.logger.error('revocations could not be loaded: protected routes answer 503 until they are');
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.unwatch?.();
    this.reloadPending = false;
    while (this.running) await this.running;
    await this.bus?.unsubscribe();
  }

  /**
   * Polls when one is due: every `revocationPollMs` while the bus listens
   * (or when there is none: Redis not configured), every `tick` while a
   * configured bus cannot deliver or has just come back.
   */
  private tick(tick: number): void {
    const uncovered = this.bus !== undefined && (!this.bus.listening || performance.now() < this.settlingUntil);
    const interval = uncovered ? tick : this.options.revocationPollMs;
    // Half a tick of slack: timers fire a little early or late, and a poll due now must not wait a whole tick.
    if (performance.now() - this.lastPollAt + tick / 2 >= interval) this.refresh('poll');
  }

  /**
   * Starts a poll unless one is running; its failure is logged, never thrown.
   * A reconnect reloads everything; one that arrives during a poll (the
   * command client and the subscriber come back one after the other) runs
   * its reload when that poll ends instead of being dropped.
   */
  private refresh(reason: 'poll' | 'reconnect'): void {
    if (reason === 'reconnect') {
      this.bus?.subscribe().catch((e: unknown) => this.logger.warn(`auth bus: ${String(e)}`));
      this.reloadPending = true;
    }
    if (this.running) return;
    if (this.reloadPending) {
      this.reloadPending = false;
      this.since = undefined;
    }
    this.running = this.poll().finally(() => {
      this.running = undefined;
      if (this.reloadPending) this.refresh('poll');
    });
  }

  /** Reads new revocations (all unexpired ones when `since` is unset) and prunes expired ones. */
  private async poll(): Promise<void> {
    this.lastPollAt = performance.now();
    const epoch = this.epoch;
    const listening = this.bus?.listening ?? false;
    try {
      const [{ now }] = await this.rows.query<Array<{ now: Date }>>('SELECT now() AS now');
      const query = this.rows
        .createQueryBuilder('r')
        .select(['r.kind', 'r.subject', 'r.expiresAt'])
        .where('r.expires_at > now()');
      if (this.since) query.andWhere('r.created_at > :since', { since: this.since });
      const found = await query.getMany();
      this.revoked.add(found.map((r) => ({ kind: r.kind, subject: r.subject, expiresAt: r.expiresAt.getTime() })));
      this.since = new Date(new Date(now).getTime() - POLL_OVERLAP_MS);
      if (!this.loaded) this.logger.log(`revocations loaded (${this.revoked.size} active)`);
      this.loaded = true;
      this.freshUntil = performance.now() + Math.max(MAX_STALE_MS, 10 * this.options.revocationPollMs);
      this.busCovers = listening && epoch === this.epoch;
      this.revoked.prune();
      await this.purge();
    } catch (error) {
      this.logger.warn(`revocations not refreshed from Postgres: ${String(error)}`);
    }
  }

  private async purge(): Promise<void> {
    if (Date.now() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = Date.now();
    await this.rows.createQueryBuilder().delete().where(`expires_at < now() - interval '1 minute'`).execute();
    // Ended sessions (and, by cascade, their rotated hashes) are kept a day for
    // the sessions list and audits, then dropped: nothing reads them any more
    // (their tokens' revocations are rows of their own).
    await this.rows.manager.query(
      `DELETE FROM "auth_sessions" WHERE "expires_at" < now() - interval '${ENDED_SESSION_RETENTION}'
         OR "revoked_at" < now() - interval '${ENDED_SESSION_RETENTION}'`,
    );
  }
}
