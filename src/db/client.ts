import { drizzle } from "drizzle-orm/d1";
import { countingD1 } from "../metrics/isolate-counters";
import * as schema from "./schema";

export type Db = ReturnType<typeof openDb>;

/** Drizzle over D1, every statement counted (isolate-counters.ts). */
export function openDb(d1: D1Database) {
  return drizzle(countingD1(d1), { schema });
}
