import type { FindManyOptions, FindOneOptions, FindOptionsWhere, ObjectLiteral, Repository } from 'typeorm';
import type { ResultShape } from './cached-read';
import type { CachedReadOptions } from './query-cache.options';
import type { QueryCache } from './query-cache';

type Where<T> = FindOptionsWhere<T> | FindOptionsWhere<T>[];

/**
 * A repository's reads, through the query cache: `qc.cached(repo).findOneBy({ id })`.
 * Same signatures and results as the repository's own methods; entities come
 * back as instances of their classes, a new tree per call.
 *
 * Inside a transaction (a repository from `manager.transaction(...)`) every
 * read goes to the database: the transaction may see its own uncommitted
 * writes, which must neither be served from nor stored into the cache.
 */
export class CachedRepository<T extends ObjectLiteral> {
  constructor(
    private readonly qc: QueryCache,
    readonly repository: Repository<T>,
    private readonly options: CachedReadOptions = {},
  ) {}

  find(options?: FindManyOptions<T>): Promise<T[]> {
    return this.read('find', options, options?.where, 'entities', () => this.repository.find(options));
  }

  findBy(where: Where<T>): Promise<T[]> {
    return this.read('findBy', { where }, where, 'entities', () => this.repository.findBy(where));
  }

  findOne(options: FindOneOptions<T>): Promise<T | null> {
    return this.read('findOne', options, options.where, 'entities', () => this.repository.findOne(options));
  }

  findOneBy(where: Where<T>): Promise<T | null> {
    return this.read('findOneBy', { where }, where, 'entities', () => this.repository.findOneBy(where));
  }

  findAndCount(options?: FindManyOptions<T>): Promise<[T[], number]> {
    const load = () => this.repository.findAndCount(options);
    return this.read('findAndCount', options, undefined, 'entitiesAndCount', load);
  }

  findAndCountBy(where: Where<T>): Promise<[T[], number]> {
    const load = () => this.repository.findAndCountBy(where);
    return this.read('findAndCountBy', { where }, undefined, 'entitiesAndCount', load);
  }

  count(options?: FindManyOptions<T>): Promise<number> {
    return this.read('count', options, undefined, 'data', () => this.repository.count(options));
  }

  countBy(where: Where<T>): Promise<number> {
    return this.read('countBy', { where }, undefined, 'data', () => this.repository.countBy(where));
  }

  exists(options?: FindManyOptions<T>): Promise<boolean> {
    return this.read('exists', options, options?.where, 'data', () => this.repository.exists(options));
  }

  existsBy(where: Where<T>): Promise<boolean> {
    return this.read('existsBy', { where }, where, 'data', () => this.repository.existsBy(where));
  }

  /**
   * @param byKeyWhere the `where` that makes this a read of one row when it is
   *   exactly the primary key (counts and paged lists pass undefined: they are lists).
   */
  private read<R>(
    method: string,
    find: ObjectLiteral | undefined,
    byKeyWhere: unknown,
    shape: ResultShape,
    load: () => Promise<R>,
  ): Promise<R> {
    if (this.repository.queryRunner?.isTransactionActive) return load();
    return this.qc.readFind(this.repository.metadata, method, find, byKeyWhere, shape, load, this.options);
  }
}
