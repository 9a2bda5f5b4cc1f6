/**
 * Bench section "bulk" (issue 15). (Stub: its helper fills it.)
 * @module
 */
import type { BenchSection } from "../common.js";

export const bench: BenchSection = async () => [];
