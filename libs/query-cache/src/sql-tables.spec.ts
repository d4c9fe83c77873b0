import type { DataSource, EntityMetadata } from 'typeorm';
import { TableIndex } from './sql-tables';

const entity = (tableName: string) => ({ name: tableName, tableName, tablePath: tableName }) as EntityMetadata;
const users = entity('users');
const boardrooms = entity('boardrooms');
const members = entity('boardroom_members');
const index = new TableIndex({
  entityMetadatas: [users, boardrooms, members],
  isInitialized: true,
} as unknown as DataSource);

describe(TableIndex.name, () => {
  it.each([
    ['UPDATE users SET name = $1', [users]],
    ['update "users" set name = $1', [users]],
    ['UPDATE ONLY users SET name = $1', [users]],
    ['DELETE FROM ONLY public.users WHERE id = $1', [users]],
    ['INSERT INTO public."users" (name) VALUES ($1)', [users]],
    ['WITH gone AS (DELETE FROM boardroom_members RETURNING *) SELECT * FROM gone', [members]],
    ['TRUNCATE users, boardrooms', [users, boardrooms]],
    ['TRUNCATE TABLE ONLY users, ONLY boardrooms * RESTART IDENTITY CASCADE', [users, boardrooms]],
    ['truncate "users", "boardroom_members" restrict', [users, members]],
  ])('finds the tables %s writes', (sql, tables) => {
    expect(index.written(sql)).toEqual(tables);
  });

  it('finds none in a read, even one whose columns look like keywords', () => {
    expect(index.written('SELECT "updatedAt", "deleted" FROM users FOR UPDATE')).toEqual([]);
  });

  it('finds the tables a read joins, with or without schema', () => {
    const sql = 'SELECT * FROM "boardrooms" b INNER JOIN public.boardroom_members m ON m.boardroom_id = b.id';
    expect(index.read(sql)).toEqual([boardrooms, members]);
  });
});
