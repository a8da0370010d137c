// A statement that every API request or every push runs, built and compiled once per dialect.
// Kysely builds a query's tree and compiles it to SQL on every call; for these few statements
// that was a third of what the server allocated per push, and so of its scavenges, which land
// in the push latency's tail. A prepared query is built once with a marker in each argument's
// place, and a call puts its arguments where the markers are.

import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from '../database.ts';
import type { StoreContext, StoreDialect } from './store-context.ts';

/** Stands for the argument `name` in the parameters of a compiled query. */
class Marker {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }
}

export class PreparedQuery<A extends Record<string, unknown>, R> {
  private readonly build: (db: Kysely<Database>, args: A) => Compilable<R>;
  private readonly compiled = new Map<StoreDialect, CompiledQuery<R>>();

  /**
   * `build` makes the query from `args` as Kysely values only (a `where` value, a column in
   * `values` or `set`): each argument is a marker while it runs, so nothing may be computed
   * from one, and a list (`in`) cannot be an argument.
   */
  constructor(build: (db: Kysely<Database>, args: A) => Compilable<R>) {
    this.build = build;
  }

  async execute(ctx: StoreContext, args: A): Promise<QueryResult<R>> {
    const compiled = this.compiledFor(ctx);
    const parameters = compiled.parameters.map((value) =>
      value instanceof Marker ? args[value.name] : value,
    );
    return ctx.db.executeQuery<R>({ ...compiled, parameters });
  }

  async rows(ctx: StoreContext, args: A): Promise<R[]> {
    return (await this.execute(ctx, args)).rows;
  }

  async first(ctx: StoreContext, args: A): Promise<R | undefined> {
    return (await this.execute(ctx, args)).rows[0];
  }

  private compiledFor(ctx: StoreContext): CompiledQuery<R> {
    let compiled = this.compiled.get(ctx.dialect);
    if (compiled === undefined) {
      const markers = new Map<string, Marker>();
      const args = new Proxy({} as A, {
        get: (_target, name) => {
          if (typeof name !== 'string') return undefined;
          let marker = markers.get(name);
          if (marker === undefined) {
            marker = new Marker(name);
            markers.set(name, marker);
          }
          return marker;
        },
      });
      compiled = this.build(ctx.db, args).compile();
      const placed = new Set(compiled.parameters.filter((value) => value instanceof Marker));
      for (const marker of markers.values()) {
        // A marker the SQL does not carry was read as a value by `build`, not passed to Kysely.
        if (!placed.has(marker))
          throw new Error(`prepared query: argument ${marker.name} is not a parameter`);
      }
      this.compiled.set(ctx.dialect, compiled);
    }
    return compiled;
  }
}
