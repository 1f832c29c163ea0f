import { createQueryId, type CompiledQuery, type Compilable, type Kysely } from "kysely";

/** Stands in for a value while a shape is compiled; never reaches the database. */
const PARAMETER = "\u0000sailfin-parameter:";

/** Compiled shapes kept per database handle (a dialect compiles differently). */
const DEFAULT_COMPILED_QUERY_LIMIT = 256;

interface Shape {
  readonly compiled: CompiledQuery;
  /** Each bound parameter in order: a named value to take from the call, or a constant of the shape. */
  readonly slots: ReadonlyArray<{ readonly name: string } | { readonly value: unknown }>;
}

/**
 * Queries built and compiled once per shape, bound anew per call. Building and compiling a
 * Kysely query costs about as much as running a small indexed read on SQLite (bench/README.md);
 * for a given shape (which filters, which direction, which LIMIT) the SQL text is always the
 * same, only the values change. `build` runs once per shape with `param(name)` standing for each
 * value; each later call binds `values[name]` in the same places. The shape key must name
 * everything that changes the SQL text. Least recently used shapes are dropped past `limit`.
 */
export class CompiledQueries {
  readonly #shapes = new WeakMap<object, Map<string, Shape>>();
  readonly #limit: number;
  #compiles = 0;

  constructor(limit = DEFAULT_COMPILED_QUERY_LIMIT) {
    this.#limit = limit;
  }

  async execute<R>(
    db: Kysely<any>,
    key: string,
    values: Readonly<Record<string, unknown>>,
    build: (param: (name: string) => any) => Compilable<R>,
  ): Promise<R[]> {
    let shapes = this.#shapes.get(db);
    if (shapes === undefined) this.#shapes.set(db, (shapes = new Map()));
    let shape = shapes.get(key);
    if (shape === undefined) {
      shape = this.#compile(build);
      if (shapes.size >= this.#limit) shapes.delete(shapes.keys().next().value!);
    } else {
      shapes.delete(key); // re-inserted below: Map order is insertion order, so this marks it recently used
    }
    shapes.set(key, shape);
    const parameters = shape.slots.map((slot) => {
      if (!("name" in slot)) return slot.value;
      const value = values[slot.name];
      if (value === undefined) throw new Error(`compiled query ${key}: no value for ${slot.name}`);
      return value;
    });
    const result = await db.executeQuery<R>({ ...shape.compiled, parameters, queryId: createQueryId() });
    return result.rows;
  }

  /** Counters for tests. */
  stats(): { compiles: number } {
    return { compiles: this.#compiles };
  }

  #compile<R>(build: (param: (name: string) => any) => Compilable<R>): Shape {
    this.#compiles += 1;
    const compiled = build((name) => `${PARAMETER}${name}`).compile();
    const slots = compiled.parameters.map((p) =>
      typeof p === "string" && p.startsWith(PARAMETER) ? { name: p.slice(PARAMETER.length) } : { value: p });
    if (compiled.sql.includes(PARAMETER)) throw new Error("a query parameter was written into the SQL text");
    return { compiled, slots };
  }
}
