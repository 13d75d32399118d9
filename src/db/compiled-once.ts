import type { CompiledQuery } from "kysely";
import type { Db } from "./connect.ts";

interface Slot {
  readonly slot: string;
}

/** A query builder, or a sql`` template (which compiles against a Kysely instance). */
type Compilable<R> = { compile(db: Db): CompiledQuery<R> };

/** The stand-ins of a compiledOnce statement's values: annotate `build`'s `slot` with the values' type. */
export type Slots<V> = <K extends keyof V & string>(name: K) => V[K];

const isSlot = (value: unknown): value is Slot => typeof value === "object" && value !== null && Object.getPrototypeOf(value) === SLOT_PROTOTYPE;
const SLOT_PROTOTYPE = {};

/**
 * A statement built and compiled by Kysely once, then run with new values:
 * the statements of every charge do not pay for a compile each. `build` gets
 * `slot(name)`, a stand-in for a value of the call; each slot must become a
 * parameter of the query (a where value, `eb.val`, a sql`${}` value), never be
 * computed with or spread into a list. The first compile checks that each
 * slot became a parameter.
 */
export function compiledOnce<V extends object, R>(build: (db: Db, slot: Slots<V>) => Compilable<R>): (db: Db, values: V) => CompiledQuery<R> {
  let compiled: CompiledQuery<R> | undefined;
  return (db, values) => {
    compiled ??= compile(db, build);
    return { ...compiled, parameters: compiled.parameters.map((parameter) => (isSlot(parameter) ? (values as Record<string, unknown>)[parameter.slot] : parameter)) };
  };
}

function compile<V, R>(db: Db, build: (db: Db, slot: Slots<V>) => Compilable<R>): CompiledQuery<R> {
  const asked = new Set<string>();
  const compiled = build(db, (name) => {
    asked.add(name);
    return Object.assign(Object.create(SLOT_PROTOTYPE), { slot: name });
  }).compile(db);
  const bound = new Set(compiled.parameters.filter(isSlot).map((parameter) => parameter.slot));
  const lost = [...asked].filter((name) => !bound.has(name));
  if (lost.length > 0) throw new Error(`compiledOnce: ${lost.join(", ")} did not become parameters of: ${compiled.sql}`);
  return compiled;
}
