import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

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
  @Matches(/^\d{1,20}$/, { message: 'cursor must be the number a previous page returned' })
  cursor: string = '0';

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  count: number = 100;
}

/** `?page&limit` of the audit log. */
export class AuditQuery {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 50;
}
