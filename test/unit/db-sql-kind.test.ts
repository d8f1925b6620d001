import { describe, expect, it } from 'vitest';
import { isReadOnlySql } from '../../src/db/sql-kind.js';

describe('isReadOnlySql', () => {
  it.each(['select 1', '  SELECT * from t', '-- note\nselect 1', '/* x */ select 1', 'show search_path', 'explain select 1', 'values (1)', 'table t'])('%j is a read', (sql) => {
    expect(isReadOnlySql(sql)).toBe(true);
  });

  it.each([
    'insert into t values (1)',
    'update t set a = 1',
    'delete from t',
    'with x as (delete from t returning *) select * from x',
    'select * from t for update',
    'select * from t for no key update',
    'select * into t2 from t',
    "select nextval('s')",
    'select pg_advisory_lock(1)',
    'explain analyze delete from t',
    'begin',
    'create table t (a int)',
    '',
  ])('%j goes to the primary', (sql) => {
    expect(isReadOnlySql(sql)).toBe(false);
  });
});
