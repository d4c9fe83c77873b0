import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { ROLES, type Role } from '@app/auth';
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
