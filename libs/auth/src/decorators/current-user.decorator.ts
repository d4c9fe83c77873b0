import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { AuthError } from '../auth.errors';
import type { AuthenticatedUser } from '../tokens/access-token.claims';

/** The caller the JWT guard authenticated (fails closed if a route forgot to be protected). */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => {
  const user = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
  if (!user) throw AuthError.unauthenticated('Authentication required');
  return user;
});
