import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Optional,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AiLedger } from '@app/ai';
import { CurrentUser, Roles, RolesGuard, type AuthenticatedUser } from '@app/auth';
import { CacheArgumentError, CacheService } from '@app/cache';
import { HttpCacheStats } from '@app/http-cache';
import { RedisConnection } from '@app/redis';
import { clip } from './audit-text';
import { CacheAdminHooks } from './cache-admin-hooks';
import { ADMIN_TEST_NAMESPACE } from './cache-admin.constants';
import {
  AuditEntryDto,
  AuditPageDto,
  AuditQuery,
  CacheHealthDto,
  CacheStatsDto,
  CacheTestResultDto,
  InvalidateDto,
  InvalidateResultDto,
  KeyDetailDto,
  KeysPageDto,
  KeysQuery,
  WarmResultDto,
} from './cache-admin.dto';
import type { AuditOutcome } from './cache-audit.entity';
import { CacheAuditService } from './cache-audit.service';
import { KeyBrowser } from './key-browser';
import { PrintableParamPipe } from './printable.pipe';
import { StatsSampler } from './stats-sampler';

/** One step of `POST /cache/test`. */
interface TestStep {
  step: string;
  ok: boolean;
  ms: number;
  error?: string;
}

/**
 * `/api/v1/cache/*`: the cache admin API, admins only. `RolesGuard` is on the
 * controller itself, so the routes fail closed (401 without an authenticated
 * caller, 403 for a user) even in an app that forgot the global guards. Every
 * action (not the reads) is audited with the admin's id.
 */
@ApiTags('cache-admin')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'The caller is not an admin' })
@Controller('cache')
@UseGuards(RolesGuard)
@Roles('admin')
export class CacheAdminController {
  private readonly keyBrowser: KeyBrowser;

  constructor(
    private readonly cache: CacheService,
    private readonly audit: CacheAuditService,
    private readonly hooks: CacheAdminHooks,
    private readonly sampler: StatsSampler,
    @Optional() private readonly redis?: RedisConnection,
    @Optional() private readonly ledger?: AiLedger,
    @Optional() private readonly httpStats?: HttpCacheStats,
  ) {
    this.keyBrowser = new KeyBrowser(cache, redis);
  }

  /** Backend, breaker, Redis connection and latency, L1 size, bus and channel. */
  @Get('health')
  @ApiOperation({ summary: 'Backend, breaker, Redis connection and latency, L1 size, bus and channel' })
  @ApiOkResponse({ type: CacheHealthDto })
  async health() {
    const status = this.cache.status();
    return { ...status, redis: await this.redisHealth() };
  }

  /** Counters per namespace and layer, Redis INFO and SLOWLOG, the AI ledger, HTTP-cache figures, the samples. */
  @Get('stats')
  @ApiOperation({ summary: 'Counters, Redis INFO and SLOWLOG, the AI ledger, HTTP-cache figures and sampled history' })
  @ApiOkResponse({ type: CacheStatsDto })
  async stats() {
    return {
      namespaces: this.cache.stats(),
      l1: this.cache.l1ByNamespace(),
      locks: this.cache.lockStats(),
      status: this.cache.status(),
      redis: await this.redisInfo(),
      slowlog: await this.slowlog(),
      ai: this.ledger ? this.ledger.lines() : null,
      http: this.httpStats
        ? {
            outcomes: { ...this.httpStats.outcomes },
            notModified: this.httpStats.notModified,
            servedBytes: this.httpStats.servedBytes,
            unstored: { ...this.httpStats.unstored },
          }
        : null,
      samples: this.sampler.samples(),
    };
  }

  /** Loads one user, boardroom or user's conversations (the kinds the app registered) into the cache. */
  @Post('warm/:kind/:id')
  @HttpCode(200)
  @ApiOperation({ summary: "Load a user, a boardroom or a user's conversations into the cache" })
  @ApiParam({
    name: 'kind',
    description: 'What the app registered: user, boardroom, conversations',
    schema: { type: 'string' },
  })
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ type: WarmResultDto })
  @ApiNotFoundResponse({ description: 'Unknown kind, or nothing with this id' })
  async warm(
    @CurrentUser() admin: AuthenticatedUser,
    @Param('kind', PrintableParamPipe) kind: string,
    @Param('id', ParseUUIDPipe) raw: string,
  ): Promise<{ warmed: string; id: string }> {
    // The canonical spelling: cache keys and tags are strings.
    const id = raw.toLowerCase();
    // The action's name holds the kind: at most 40 characters (the column), of a name a warmer could have.
    const named = /^[\w.-]{1,34}$/.test(kind) ? kind : 'unknown';
    return this.audited(admin, `warm.${named}`, id, async () => {
      const warmer = this.hooks.warmer(kind);
      if (!warmer)
        throw new NotFoundException(`Nothing to warm by "${clip(kind, 40)}"; try ${this.hooks.warmerKinds.join(', ')}`);
      if (!(await warmer(id))) throw new NotFoundException(`No ${kind} ${id}`);
      return { warmed: kind, id };
    });
  }

  /** Invalidates keys (of `namespace`), tags and/or a whole namespace, on every instance. */
  @Post('invalidate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Invalidate keys, tags and/or a namespace on every instance' })
  @ApiOkResponse({ type: InvalidateResultDto })
  async invalidate(@CurrentUser() admin: AuthenticatedUser, @Body() body: InvalidateDto) {
    const { keys = [], tags = [], namespace } = body;
    if (keys.length === 0 && tags.length === 0 && namespace === undefined)
      throw new BadRequestException('Give keys, tags or a namespace');
    const target = JSON.stringify({ namespace, keys, tags });
    return this.audited(admin, 'invalidate', target, async () => {
      try {
        if (keys.length > 0) await this.cache.namespace(namespace ?? 'default').delete(keys);
        if (tags.length > 0) await this.cache.invalidateTags(tags);
        if (namespace !== undefined && keys.length === 0) await this.cache.clearNamespace(namespace);
      } catch (error) {
        if (error instanceof CacheArgumentError) throw new BadRequestException(error.message);
        throw error;
      }
      return { invalidated: { namespace: namespace ?? null, keys: keys.length, tags: tags.length } };
    });
  }

  /** Drops every cached view of a user (the app decides which those are). */
  @Delete('invalidate/users/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Drop every cached view of a user' })
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiNoContentResponse({ description: 'Invalidated' })
  @ApiNotFoundResponse({ description: 'The app registered no user invalidation' })
  async invalidateUser(
    @CurrentUser() admin: AuthenticatedUser,
    @Param('id', ParseUUIDPipe) raw: string,
  ): Promise<void> {
    const id = raw.toLowerCase();
    await this.audited(admin, 'invalidate.user', id, async () => {
      const done = this.hooks.invalidateUser(id);
      if (!done) throw new NotFoundException('This app registered no user invalidation');
      await done;
    });
  }

  /** A write-read-delete round trip through both tiers, with each step's time. */
  @Post('test')
  @HttpCode(200)
  @ApiOperation({ summary: "A write-read-delete round trip through both tiers, with each step's time" })
  @ApiOkResponse({ type: CacheTestResultDto })
  async test(
    @CurrentUser() admin: AuthenticatedUser,
  ): Promise<{ ok: boolean; usingRedis: boolean; steps: TestStep[] }> {
    const key = randomUUID();
    return this.audited(
      admin,
      'test',
      key,
      () => this.roundTrip(key),
      (result) => (result.ok ? 'ok' : 'error'),
    );
  }

  private async roundTrip(key: string): Promise<{ ok: boolean; usingRedis: boolean; steps: TestStep[] }> {
    const ns = this.cache.namespace(ADMIN_TEST_NAMESPACE);
    const usingRedis = this.cache.status().usingRedis;
    const steps: TestStep[] = [];
    const step = async (name: string, run: () => Promise<void>) => {
      const started = performance.now();
      try {
        await run();
        steps.push({ step: name, ok: true, ms: performance.now() - started });
      } catch (error) {
        steps.push({ step: name, ok: false, ms: performance.now() - started, error: (error as Error).message });
      }
    };
    await step('write (L1 and L2)', () => ns.set(key, { probe: key }, { ttl: 60_000, jitter: 0 }));
    await step('read (L1)', async () => {
      if ((await ns.get<{ probe: string }>(key))?.probe !== key)
        throw new Error('the value read is not the one written');
    });
    if (usingRedis && this.redis)
      await step('read (L2, the Redis key itself)', async () => {
        const raw = await this.redis!.run((client) => client.exists(this.cache.redisKey(ADMIN_TEST_NAMESPACE, key)));
        if (raw !== 1) throw new Error('the entry is not in Redis');
      });
    await step('delete', () => ns.delete(key));
    await step('read after delete (a miss)', async () => {
      if ((await ns.get(key)) !== undefined) throw new Error('the deleted entry is still read');
    });
    return { ok: steps.every((s) => s.ok), usingRedis, steps };
  }

  /** One `SCAN` page of the app's entries whose key contains `match` (taken literally); `cursor` "0" starts and ends. */
  @Get('keys')
  @ApiOperation({ summary: "One SCAN page of the app's entries whose key contains `match`" })
  @ApiOkResponse({ type: KeysPageDto })
  @ApiServiceUnavailableResponse({
    description: 'No Redis is configured, or it could not be asked (breaker open, deadline missed)',
  })
  keys(@Query() query: KeysQuery) {
    return this.keyBrowser.scan(query.match, query.cursor, query.count);
  }

  /** An entry (`namespace:key`): namespace, TTL, tags, the value (cut above 16 KiB), and which layers hold it here. */
  @Get('keys/:key')
  @ApiOperation({ summary: 'An entry: TTL, tags, value (cut above 16 KiB) and which layers hold it' })
  @ApiParam({ name: 'key', description: '`namespace:key`, URL-encoded', schema: { type: 'string', maxLength: 400 } })
  @ApiOkResponse({ type: KeyDetailDto })
  @ApiNotFoundResponse({ description: 'Neither layer holds the entry' })
  @ApiServiceUnavailableResponse({
    description: 'This L1 does not hold the entry and Redis could not be asked (breaker open, deadline missed)',
  })
  key(@Param('key', PrintableParamPipe) key: string) {
    return this.keyBrowser.detail(key);
  }

  /** Deletes an entry on every instance. */
  @Delete('keys/:key')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an entry on every instance' })
  @ApiParam({ name: 'key', description: '`namespace:key`, URL-encoded', schema: { type: 'string', maxLength: 400 } })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such entry' })
  @ApiServiceUnavailableResponse({
    description: 'This L1 does not hold the entry and Redis could not be asked (breaker open, deadline missed)',
  })
  async deleteKey(
    @CurrentUser() admin: AuthenticatedUser,
    @Param('key', PrintableParamPipe) key: string,
  ): Promise<void> {
    await this.audited(admin, 'key.delete', key, () => this.keyBrowser.delete(key));
  }

  /** The audit log, newest first. */
  @Get('audit')
  @ApiOperation({ summary: 'The audit log of admin actions, newest first' })
  @ApiOkResponse({ type: AuditPageDto })
  auditLog(@Query() query: AuditQuery) {
    return this.audit.page(query.page, query.limit);
  }

  /** One entry of the audit log, its target whole (a page cuts targets at 1,000 characters). */
  @Get('audit/:id')
  @ApiOperation({ summary: 'One entry of the audit log, its target whole' })
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ type: AuditEntryDto })
  @ApiNotFoundResponse({ description: 'No entry with this id' })
  async auditEntry(@Param('id', ParseUUIDPipe) id: string) {
    const entry = await this.audit.entry(id);
    if (!entry) throw new NotFoundException('No audit entry with this id');
    return entry;
  }

  /**
   * Audits an action and runs it: the entry is written first (no entry, no
   * action: the call fails), then given its outcome, `ok` (or what `judge`
   * makes of the result), `not_found` (a 404) or `error`.
   */
  private async audited<T>(
    admin: AuthenticatedUser,
    action: string,
    target: string,
    run: () => Promise<T>,
    judge: (result: T) => AuditOutcome = () => 'ok',
  ): Promise<T> {
    const entry = await this.audit.begin(admin.id, action, target);
    let result: T;
    try {
      result = await run();
    } catch (error) {
      const outcome = error instanceof NotFoundException ? 'not_found' : 'error';
      await this.audit.finish(entry, outcome, (error as Error).message);
      throw error;
    }
    await this.audit.finish(entry, judge(result));
    return result;
  }

  private async redisHealth() {
    if (!this.redis?.enabled) return { configured: false, connected: false, latencyMs: null, target: null };
    const target = this.redis.target ?? null;
    try {
      return { configured: true, connected: true, latencyMs: await this.redis.ping(), target };
    } catch {
      return { configured: true, connected: false, latencyMs: null, target };
    }
  }

  private async redisInfo() {
    if (!this.redis?.enabled) return null;
    try {
      const info = await this.redis.info();
      const pick = (...names: string[]) =>
        Object.fromEntries(names.filter((n) => info[n] !== undefined).map((n) => [n, info[n]]));
      return {
        version: info.redis_version,
        memory: pick('used_memory', 'used_memory_human', 'used_memory_peak_human', 'maxmemory', 'maxmemory_policy'),
        clients: pick('connected_clients', 'blocked_clients'),
        stats: pick(
          'instantaneous_ops_per_sec',
          'total_commands_processed',
          'evicted_keys',
          'expired_keys',
          'keyspace_hits',
          'keyspace_misses',
        ),
        keyspace: Object.fromEntries(Object.entries(info).filter(([k]) => /^db\d+$/.test(k))),
      };
    } catch {
      return null;
    }
  }

  /** The last 10 slow commands: arguments cut to 4 of 60 characters each (a value may be private). */
  private async slowlog() {
    if (!this.redis?.enabled) return null;
    try {
      // A cluster's slow log is per master: the 10 latest of all of them.
      const redis = this.redis;
      const perNode = await redis.run(async () =>
        Promise.all((await redis.nodes()).map((node) => node.sendCommand<unknown[][]>(['SLOWLOG', 'GET', '10']))),
      );
      const entries = perNode
        .flat()
        .sort((a, b) => Number(b[1]) - Number(a[1]))
        .slice(0, 10);
      return entries.map((entry) => ({
        id: Number(entry[0]),
        at: new Date(Number(entry[1]) * 1000).toISOString(),
        durationUs: Number(entry[2]),
        command: (entry[3] as unknown[]).slice(0, 4).map((arg) => String(arg).slice(0, 60)),
      }));
    } catch {
      return null;
    }
  }
}
