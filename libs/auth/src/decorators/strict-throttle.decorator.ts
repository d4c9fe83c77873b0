import { SetMetadata } from '@nestjs/common';
import { STRICT_THROTTLE_KEY } from '../auth.constants';

/** The per-IP and per-email limits of credential routes (login, register) apply here. */
export const StrictThrottle = () => SetMetadata(STRICT_THROTTLE_KEY, true);
