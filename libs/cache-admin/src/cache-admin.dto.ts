import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import type { CacheStatus } from '@app/cache';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
} from 'class-validator';
import type { AuditOutcome } from './cache-audit.entity';
import type { AuditEntry, ListedAuditEntry } from './cache-audit.service';
import { PRINTABLE } from './printable.pipe';
import type { StatsSample } from './stats-sampler';

/** Redis's SCAN cursors are unsigned 64-bit numbers: a larger one is an error reply, not a page. */
const MAX_SCAN_CURSOR = 2n ** 64n - 1n;

/** A SCAN cursor: decimal digits, at most 2^64 - 1 (Redis answers anything else with an error). */
const IsScanCursor = () =>
  ValidateBy({
    name: 'isScanCursor',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && /^\d{1,20}$/.test(value) && BigInt(value) <= MAX_SCAN_CURSOR,
      defaultMessage: () => 'cursor must be the number a previous page returned',
    },
  });

/** `POST /cache/invalidate`: keys (of `namespace`, default `default`), tags, and/or a whole namespace. */
export class InvalidateDto {
  @ApiPropertyOptional({ type: [String], maxItems: 100 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 500, { each: true })
  @Matches(PRINTABLE, { each: true, message: 'keys must not contain control characters' })
  keys?: string[];

  @ApiPropertyOptional({ type: [String], maxItems: 100 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  @Matches(PRINTABLE, { each: true, message: 'tags must not contain control characters' })
  tags?: string[];

  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'namespace must be 1–64 characters of A-Z a-z 0-9 _ -' })
  namespace?: string;
}

/** `?match&cursor&count` of key browsing. */
export class KeysQuery {
  @ApiPropertyOptional({
    maxLength: 200,
    default: '',
    description: 'Text the key contains (glob characters are literal)',
  })
  @IsOptional()
  @IsString()
  @Length(0, 200)
  @Matches(PRINTABLE, { message: 'match must not contain control characters' })
  match: string = '';

  @ApiPropertyOptional({ default: '0', description: 'The cursor the previous page returned' })
  @IsOptional()
  @IsScanCursor()
  cursor: string = '0';

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'SCAN COUNT' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  count: number = 100;
}

/** `?page&limit` of the audit log. */
export class AuditQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 50;
}

// ---- Responses, as the OpenAPI document shows them ----

/** A free-form object of counters or figures (diagnostics whose fields follow the cache's internals). */
const FIGURES = { type: 'object', additionalProperties: true } as const;

class L1SizeDto {
  @ApiProperty({ type: 'integer' }) entries: number;
  @ApiProperty({ type: 'integer' }) bytes: number;
}

class BusCountsDto {
  @ApiProperty({ type: 'integer' }) published: number;
  @ApiProperty({ type: 'integer', description: 'From other instances' }) received: number;
  @ApiProperty({ type: 'integer', description: "This instance's own messages" }) ignored: number;
}

/** The cache's state on the instance that answers. */
export class CacheStatusDto implements CacheStatus {
  @ApiProperty({ enum: ['auto', 'redis', 'memory'] }) backend: CacheStatus['backend'];
  @ApiProperty({ description: 'Entries go to Redis now' }) usingRedis: boolean;
  @ApiProperty({ enum: ['closed', 'open', 'disabled'] }) breaker: CacheStatus['breaker'];
  @ApiProperty({ type: L1SizeDto }) l1: L1SizeDto;
  @ApiProperty({ type: BusCountsDto }) bus: BusCountsDto;
  @ApiProperty({ enum: ['listening', 'down', 'none'], description: 'The Postgres LISTEN/NOTIFY invalidation channel' })
  channel: CacheStatus['channel'];
}

class RedisHealthDto {
  @ApiProperty() configured: boolean;
  @ApiProperty() connected: boolean;
  @ApiProperty({ type: 'number', nullable: true, description: 'PING round trip (ms)' }) latencyMs: number | null;
  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'The URL without credentials, or the sentinels and master name, or the cluster nodes',
  })
  target: string | null;
}

/** `GET /cache/health`. */
export class CacheHealthDto extends CacheStatusDto {
  @ApiProperty({ type: RedisHealthDto }) redis: RedisHealthDto;
}

class SlowCommandDto {
  @ApiProperty({ type: 'integer' }) id: number;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: 'integer' }) durationUs: number;
  @ApiProperty({ type: [String], description: 'The first 4 arguments, 60 characters each' }) command: string[];
}

class SampleRedisDto {
  @ApiProperty({ type: 'number' }) latencyMs: number;
  @ApiProperty({ type: 'integer' }) usedMemory: number;
  @ApiProperty({ type: 'integer' }) opsPerSec: number;
}

class StatsSampleDto implements StatsSample {
  @ApiProperty({ type: 'integer', description: 'Epoch ms' }) at: number;
  @ApiProperty({ ...FIGURES, description: 'Hits and misses since start per `{namespace}.{layer}`' })
  counters: StatsSample['counters'];
  @ApiProperty({ type: 'integer' }) l1Bytes: number;
  @ApiProperty({ type: 'integer' }) l1Entries: number;
  @ApiProperty({ type: SampleRedisDto, nullable: true }) redis: SampleRedisDto | null;
}

/** `GET /cache/stats`. */
export class CacheStatsDto {
  @ApiProperty({ ...FIGURES, description: 'Counters per namespace and layer since start' }) namespaces: object;
  @ApiProperty({ ...FIGURES, description: "This instance's L1 entries and bytes per namespace" }) l1: object;
  @ApiProperty({ ...FIGURES, description: 'Distributed-lock counters' }) locks: object;
  @ApiProperty({ type: CacheStatusDto }) status: CacheStatusDto;
  @ApiProperty({ ...FIGURES, nullable: true, description: 'Redis INFO figures; null without Redis' }) redis:
    object | null;
  @ApiProperty({ type: [SlowCommandDto], nullable: true, description: 'The last 10 slow commands; null without Redis' })
  slowlog: SlowCommandDto[] | null;
  @ApiProperty({
    type: 'array',
    items: FIGURES,
    nullable: true,
    description: 'The AI ledger per namespace and model (requests, tokens and cost saved); null without AiModule',
  })
  ai: object[] | null;
  @ApiProperty({
    ...FIGURES,
    nullable: true,
    description: 'HTTP-cache outcomes and bytes; null without HttpCacheModule',
  })
  http: object | null;
  @ApiProperty({ type: [StatsSampleDto], description: 'The sampled history, oldest first' }) samples: StatsSampleDto[];
}

/** `POST /cache/warm/{kind}/{id}`. */
export class WarmResultDto {
  @ApiProperty({ example: 'user' }) warmed: string;
  @ApiProperty({ format: 'uuid' }) id: string;
}

class InvalidatedDto {
  @ApiProperty({ type: 'string', nullable: true }) namespace: string | null;
  @ApiProperty({ type: 'integer' }) keys: number;
  @ApiProperty({ type: 'integer' }) tags: number;
}

/** `POST /cache/invalidate`. */
export class InvalidateResultDto {
  @ApiProperty({ type: InvalidatedDto }) invalidated: InvalidatedDto;
}

class TestStepDto {
  @ApiProperty() step: string;
  @ApiProperty() ok: boolean;
  @ApiProperty({ type: 'number', description: 'Milliseconds' }) ms: number;
  @ApiPropertyOptional() error?: string;
}

/** `POST /cache/test`. */
export class CacheTestResultDto {
  @ApiProperty({ description: 'Every step succeeded' }) ok: boolean;
  @ApiProperty() usingRedis: boolean;
  @ApiProperty({ type: [TestStepDto] }) steps: TestStepDto[];
}

class BrowsedKeyDto {
  @ApiProperty({ description: '`namespace:key`' }) key: string;
  @ApiProperty() namespace: string;
}

/** `GET /cache/keys`. */
export class KeysPageDto {
  @ApiProperty({ description: 'Pass it back for the next page; "0" when the scan is complete' }) cursor: string;
  @ApiProperty({ type: [BrowsedKeyDto] }) keys: BrowsedKeyDto[];
}

class ShownValueDto {
  @ApiProperty({ description: 'The value as JSON, cut at 16 KiB' }) text: string;
  @ApiProperty() truncated: boolean;
}

class L1EntryDto {
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
  @ApiProperty({ format: 'date-time' }) graceUntil: string;
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiProperty({ type: ShownValueDto }) value: ShownValueDto;
}

class L2EntryDto {
  @ApiProperty({
    enum: ['absent', 'tombstone', 'foreign', 'entry', 'unavailable'],
    description: '`unavailable`: Redis is configured and could not be asked (shown when L1 holds the entry)',
  })
  state: string;
  @ApiPropertyOptional({ description: 'Why Redis could not be asked (`unavailable` only)' }) reason?: string;
  @ApiPropertyOptional({ type: 'integer', description: 'Remaining TTL (ms)' }) ttlMs?: number;
  @ApiPropertyOptional({ type: 'integer' }) bytes?: number;
  @ApiPropertyOptional({ format: 'date-time' }) created?: string;
  @ApiPropertyOptional({ format: 'date-time' }) expires?: string;
  @ApiPropertyOptional({ format: 'date-time' }) graceUntil?: string;
  @ApiPropertyOptional({
    description: 'The cache schema version the entry was written with (another version reads as a miss)',
  })
  schema?: string;
  @ApiPropertyOptional({ type: [String] }) tags?: string[];
  @ApiPropertyOptional({ type: ShownValueDto }) value?: ShownValueDto;
}

/** `GET /cache/keys/{key}`. */
export class KeyDetailDto {
  @ApiProperty({ description: '`namespace:key`' }) key: string;
  @ApiProperty() namespace: string;
  @ApiProperty({ type: L1EntryDto, nullable: true, description: "This instance's L1 copy" }) l1: L1EntryDto | null;
  @ApiProperty({
    type: L2EntryDto,
    nullable: true,
    description: 'The Redis key; null without a Redis tier (memory backend)',
  })
  l2: L2EntryDto | null;
}

/** `GET /cache/audit/{id}`. */
export class AuditEntryDto implements AuditEntry {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', description: 'The admin' }) actorId: string;
  @ApiProperty({ example: 'invalidate' }) action: string;
  @ApiProperty({ description: 'What the action was on (a key, an invalidation as JSON, a namespace, an id), whole' })
  target: string;
  @ApiProperty({ enum: ['pending', 'ok', 'not_found', 'error'] }) outcome: AuditOutcome;
  @ApiProperty({ type: 'string', nullable: true }) detail: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

/** An entry as a page of the audit log lists it. */
class ListedAuditEntryDto extends OmitType(AuditEntryDto, ['target']) implements ListedAuditEntry {
  @ApiProperty({ description: 'What the action was on, cut at 1,000 characters (ending in `...`) when longer' })
  target: string;
  @ApiProperty({ description: 'Whether `target` was cut: `GET /cache/audit/{id}` has it whole' })
  targetTruncated: boolean;
}

/** `GET /cache/audit`. */
export class AuditPageDto {
  @ApiProperty({ type: [ListedAuditEntryDto] }) items: ListedAuditEntryDto[];
  @ApiProperty({ type: 'integer', minimum: 1 }) page: number;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 100 }) limit: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) total: number;
}
