import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength, ValidateIf } from 'class-validator';
import { IsOptionalNonNull, NameField, NoNulCharacter } from '../common/fields.decorator';

/** `POST /boardrooms`. */
export class CreateBoardroomDto {
  @ApiProperty({ minLength: 1, maxLength: 100 })
  @NameField()
  name: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @NoNulCharacter()
  description?: string;
}

/** `PATCH /boardrooms/:id` (owner or admin). `description: null` clears it; `name` may be left out, not nulled. */
export class UpdateBoardroomDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @IsOptionalNonNull()
  @NameField()
  name?: string;

  @ApiPropertyOptional({ maxLength: 2000, nullable: true })
  @ValidateIf((_o, value) => value !== null && value !== undefined)
  @IsString()
  @MaxLength(2000)
  @NoNulCharacter()
  description?: string | null;
}

/** `POST /boardrooms/:id/members` (owner or admin). */
export class AddMemberDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  userId: string;

  @ApiPropertyOptional({ enum: ['member'], default: 'member' })
  @IsOptional()
  @IsIn(['member'])
  role?: 'member';
}
