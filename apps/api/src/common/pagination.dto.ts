import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { CanonicalInteger, canonicalIntegerMessage } from './fields.decorator';

/** `?page&limit`: 1-based page, at most 100 items. Anything else is a 400. */
export class PaginationQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 })
  @IsOptional()
  @CanonicalInteger()
  @IsInt({ message: canonicalIntegerMessage('page') })
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @CanonicalInteger()
  @IsInt({ message: canonicalIntegerMessage('limit') })
  @Min(1)
  @Max(100)
  limit: number = 20;
}

/** A page of results with the total count. */
export interface Page<T> {
  items: T[];
  page: number;
  limit: number;
  total: number;
}

/** The fields of every page in the document; each page class adds its `items`. */
export abstract class PageDto {
  @ApiProperty({ type: 'integer', minimum: 1 }) page: number;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 100 }) limit: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Items on all pages' }) total: number;
}

export const toPage = <T>([items, total]: [T[], number], { page, limit }: PaginationQuery): Page<T> => ({
  items,
  page,
  limit,
  total,
});
