import { drizzle } from "drizzle-orm/d1";
import { countingD1 } from "../metrics/isolate-counters";
import * as schema from "./schema";

export type Db = ReturnType<typeof createDb>;

function createDb(d1: D1Database) {
  return drizzle(countingD1(d1), { schema });
}

/**
 * One Drizzle per D1 binding and isolate: building one walks the whole schema (its relational
 * config), a few percent of a node's CPU when done per request and per step.
 */
const opened = new WeakMap<D1Database, Db>();

/** Drizzle over D1, every statement counted (isolate-counters.ts). */
export function openDb(d1: D1Database): Db {
  let db = opened.get(d1);
  if (!db) {
    db = createDb(d1);
    opened.set(d1, db);
  }
  return db;
}
