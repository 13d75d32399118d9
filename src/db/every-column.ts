/**
 * `columns`, checked at compile time to name every column of table `T`: for
 * prepared statements, which must name their columns (see prepared.ts) and
 * must not silently lose one added later.
 */
export function everyColumn<T>() {
  return <const C extends ReadonlyArray<keyof T & string>>(columns: [Exclude<keyof T & string, C[number]>] extends [never] ? C : { missing: Exclude<keyof T & string, C[number]> }): C => columns as C;
}
