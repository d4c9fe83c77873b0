import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { validateEnv, type AppConfig } from './app-config';
import { APP_CONFIG } from './app-config.constants';

const SECTIONS = [
  'runtime',
  'http',
  'log',
  'database',
  'redis',
  'cache',
  'health',
  'metrics',
  'auth',
  'ai',
  'conversations',
  'admin',
] as const;
// Every section of AppConfig is listed: a new one left out fails the type check here, not the boot.
const everySection: Exclude<keyof AppConfig, (typeof SECTIONS)[number]> extends never ? true : never = true;
void everySection;

/** How the configuration is read; the defaults are what `main.ts` uses. */
export interface AppConfigOptions {
  /** Variables that win over `process.env` and `.env` (tests); `undefined` unsets one. */
  env?: Record<string, string | undefined>;
  /** Skip reading `.env` from the working directory. @default false */
  ignoreEnvFile?: boolean;
}

/**
 * Reads `.env` (when present) and the environment once, validates it
 * (`validateEnv`: a bad value stops the boot naming every bad variable) and
 * provides the typed `AppConfig` under `APP_CONFIG`.
 */
@Module({})
export class AppConfigModule {
  static forRoot(options: AppConfigOptions = {}): DynamicModule {
    return {
      module: AppConfigModule,
      global: true,
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: options.ignoreEnvFile,
          cache: true,
          validate: (raw) => validateEnv({ ...raw, ...options.env }),
        }),
      ],
      providers: [
        {
          provide: APP_CONFIG,
          inject: [ConfigService],
          useFactory: (config: ConfigService<AppConfig, true>): AppConfig =>
            Object.fromEntries(
              SECTIONS.map((section) => [section, config.get(section, { infer: true })]),
            ) as unknown as AppConfig,
        },
      ],
      exports: [APP_CONFIG],
    };
  }
}
