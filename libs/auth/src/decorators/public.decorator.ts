import { SetMetadata } from '@nestjs/common';
import { IS_PUBLIC_KEY } from '../auth.constants';

/** The route (or every route of the controller) needs no access token. */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
