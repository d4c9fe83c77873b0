import type { QueryRunner } from 'typeorm';

interface RunnerState {
  /** Tags of this runner's writes, waiting for the outermost commit. */
  tags: Set<string>;
  /** Tables with an ORM write in progress (between its before- and after-event) → how many. */
  ormWrites: Map<string, number>;
}

/**
 * Per-QueryRunner state of the invalidating subscriber. A WeakMap rather than
 * `queryRunner.data`: the application owns `data`, and a released runner's
 * state goes with it.
 */
export class WriteBuffer {
  private readonly states = new WeakMap<QueryRunner, RunnerState>();

  /** Holds tags until `take` (commit) or `drop` (rollback). */
  add(runner: QueryRunner, tags: Iterable<string>): void {
    const state = this.state(runner);
    for (const tag of tags) state.tags.add(tag);
  }

  take(runner: QueryRunner): string[] {
    const state = this.states.get(runner);
    if (!state) return [];
    const tags = [...state.tags];
    state.tags.clear();
    state.ormWrites.clear();
    return tags;
  }

  drop(runner: QueryRunner): void {
    this.take(runner);
  }

  /**
   * An ORM write (save, remove, QueryBuilder insert/update/delete) announced
   * by its before-event: its SQL, seen by `afterQuery`, is covered by the
   * after-event, which knows the rows.
   */
  ormWriteStarted(runner: QueryRunner, table: string): void {
    const writes = this.state(runner).ormWrites;
    writes.set(table, (writes.get(table) ?? 0) + 1);
  }

  ormWriteEnded(runner: QueryRunner, table: string): void {
    const writes = this.states.get(runner)?.ormWrites;
    const left = (writes?.get(table) ?? 0) - 1;
    // Persistence can add update subjects after the before-events ran: never below zero.
    if (left > 0) writes!.set(table, left);
    else writes?.delete(table);
  }

  isOrmWrite(runner: QueryRunner, table: string): boolean {
    return (this.states.get(runner)?.ormWrites.get(table) ?? 0) > 0;
  }

  /** A failed statement ends whatever ORM write was in progress (its after-event will not come). */
  ormWritesFailed(runner: QueryRunner): void {
    this.states.get(runner)?.ormWrites.clear();
  }

  private state(runner: QueryRunner): RunnerState {
    let state = this.states.get(runner);
    if (!state) this.states.set(runner, (state = { tags: new Set(), ormWrites: new Map() }));
    return state;
  }
}
