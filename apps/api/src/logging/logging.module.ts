import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.constants';
import { requestId } from '../http/request-id';

/** Structured JSON logs (pino), one line per request with its id; credentials are redacted. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        // An explicit wildcard: nestjs-pino's default adds the paths excluded
        // from the global prefix a second time, which logs those requests twice.
        forRoutes: [{ path: '*splat', method: RequestMethod.ALL }],
        pinoHttp: {
          level: config.log.level,
          autoLogging: config.log.http,
          genReqId: requestId,
          redact: {
            paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
            censor: '[redacted]',
          },
          quietReqLogger: true,
        },
      }),
    }),
  ],
})
export class LoggingModule {}
