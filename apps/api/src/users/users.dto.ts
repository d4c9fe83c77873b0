import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { ROLES, type PublicUser, type Role } from '@app/auth';
import { PageDto } from '../common/pagination.dto';
import { EmailField, IsOptionalNonNull, NameField } from '../common/fields.decorator';

/** `PATCH /users/:id`: name and email by the user or an admin; role by an admin only. Fields may be left out, not nulled. */
export class UpdateUserDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @IsOptionalNonNull()
  @NameField()
  name?: string;

  @ApiPropertyOptional({ maxLength: 254 })
  @IsOptionalNonNull()
  @EmailField()
  email?: string;

  @ApiPropertyOptional({ enum: ROLES, description: 'Admins only' })
  @IsOptionalNonNull()
  @IsIn(ROLES)
  role?: Role;
}

/** A user as the API shows it (never the password hash). */
export class UserDto implements PublicUser {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' }) email: string;
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Ada Lovelace' }) name: string;
  @ApiProperty({ enum: ROLES }) role: Role;
}

/** A page of users. */
export class UserPageDto extends PageDto {
  @ApiProperty({ type: [UserDto] }) items: UserDto[];
}
