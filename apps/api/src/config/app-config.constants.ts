import { Inject } from '@nestjs/common';

/** Token of the validated, typed `AppConfig`. */
export const APP_CONFIG = 'API:APP_CONFIG';

/** Injects the validated `AppConfig`. */
export const InjectAppConfig = (): ParameterDecorator => Inject(APP_CONFIG);
