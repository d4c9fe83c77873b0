import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { CACHED_METADATA, type CachedOptions } from './cached.decorator';
import { CacheService } from './cache.service';
import { buildKey } from './keys';

type AnyMethod = (...args: unknown[]) => Promise<unknown>;

/** Wraps every `@Cached` method of every provider in `getOrSet` at startup. */
@Injectable()
export class CachedMethodsExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly cache: CacheService,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) this.wrap(instance, name);
    }
  }

  private wrap(instance: Record<string, unknown>, name: string): void {
    const method = instance[name] as AnyMethod;
    const options = this.reflector.get<CachedOptions | undefined>(CACHED_METADATA, method);
    if (!options) return;
    const cache = this.cache.namespace(options.namespace ?? instance.constructor.name);
    const { key, tags, ...rest } = options;
    instance[name] = (...args: unknown[]) =>
      cache.getOrSet(key ? key(...args) : buildKey(name, ...args), () => method.apply(instance, args), {
        ...rest,
        tags: typeof tags === 'function' ? tags(...args) : tags,
      });
  }
}
