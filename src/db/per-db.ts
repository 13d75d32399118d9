import type { Db } from "./connect.ts";

/**
 * One `T` per database handle, made on first use: what concurrent callers of
 * the same pool share (a batcher of their statements), and a test's fresh
 * database does not inherit.
 */
export function perDb<T>(make: (db: Db) => T): (db: Db) => T {
  const made = new WeakMap<Db, T>();
  return (db) => {
    let value = made.get(db);
    if (value === undefined) made.set(db, (value = make(db)));
    return value;
  };
}
