/**
 * The data-movement bench sections (issue 15), by name: `BENCH_ONLY=copy,bulk npm run bench` runs only those
 * (`core` names the query, transaction and cursor workloads of `run.ts`).
 * @module
 */
import type { BenchSection } from "../common.js";
import { bench as bulk } from "./bulk.js";
import { bench as copy } from "./copy.js";
import { bench as stream } from "./stream.js";

export const dataSections: [name: string, section: BenchSection][] = [
  ["copy", copy],
  ["bulk", bulk],
  ["stream", stream],
];
