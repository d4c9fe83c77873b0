import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { IsOptionalNonNull, NameField, NoNulCharacter, UuidField } from '../common/fields.decorator';
import { PageDto } from '../common/pagination.dto';
import type { MemberRole } from './boardroom-member.entity';
import type { BoardroomView } from './boardroom.view';

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
  @UuidField()
  userId: string;

  @ApiPropertyOptional({ enum: ['member'], default: 'member' })
  @IsOptional()
  @IsIn(['member'])
  role?: 'member';
}

/** A member of a boardroom, as its single read lists them (the owner first). */
export class BoardroomMemberDto {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['owner', 'member'] }) role: MemberRole;
}

/** A boardroom as the API shows it. */
export class BoardroomDto implements Omit<BoardroomView, 'createdAt' | 'updatedAt'> {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ minLength: 1, maxLength: 100 }) name: string;
  @ApiProperty({ type: 'string', nullable: true, maxLength: 2000 }) description: string | null;
  @ApiProperty({ format: 'uuid' }) ownerId: string;
  @ApiProperty({ type: 'string', format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: 'string', format: 'date-time' }) updatedAt: string;
  @ApiPropertyOptional({
    type: [BoardroomMemberDto],
    description: 'Every read of one boardroom lists them; list pages leave them out',
  })
  members?: BoardroomMemberDto[];
}

/** A page of the caller's boardrooms. */
export class BoardroomPageDto extends PageDto {
  @ApiProperty({ type: [BoardroomDto] }) items: BoardroomDto[];
}
