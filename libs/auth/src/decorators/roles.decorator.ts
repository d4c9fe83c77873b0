import { SetMetadata } from '@nestjs/common';
import { ROLES_KEY, type Role } from '../auth.constants';

/** Only callers with one of these roles may use the route (403 otherwise). */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
