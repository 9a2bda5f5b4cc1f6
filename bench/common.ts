/**
 * What the bench's sections share: interleaved best-of rounds, rates, and the run's handles and results.
 * @module
 */
import type pg from "pg";
import type { AsyncDatabase, Database } from "../src/index.js";

export type Candidate = [name: string, run: () => Promise<number> | number];

export const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** Runs the candidates in interleaved rounds (a, b, c, a, b, c, …) and keeps each one's best: a noisy neighbour
 * or a garbage-collector phase then hurts all of them alike. */
export async function interleaved(candidates: Candidate[], rounds = RUNS): Promise<number[]> {
  const top = candidates.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < candidates.length; k++) top[k] = Math.max(top[k]!, await candidates[k]![1]());
  }
  return top;
}

/** Items per second since `t0` (a `performance.now()`). */
export function rate(n: number, t0: number): number {
  return n / ((performance.now() - t0) / 1000);
}

/** `a / b` as `1.23x`, or `n/a`. */
export const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : "n/a");

/** What a bench section gets. */
export interface BenchEnv {
  /** The server's URL (for psql and raw clients of its own). */
  url: string;
  /** A raw node-postgres client, connected. */
  raw: pg.Client;
  adb: AsyncDatabase;
  sdb: Database;
  /** Prints and keeps one measurement. */
  record(workload: string, name: string, value: number, unit: string): void;
  /** A kept measurement: the first whose workload and name start with `w` and `n` (NaN when none). */
  get(w: string, n: string): number;
}

/**
 * A bench section: measures its workloads (through `env.record`) and returns its ratio lines, printed after
 * every section has run (`"  <label padded to 36> <ratio>  [target]"`).
 */
export type BenchSection = (env: BenchEnv) => Promise<string[]>;
