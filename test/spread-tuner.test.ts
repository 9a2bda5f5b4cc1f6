/**
 * The pool's spread tuner (`pool/spread-tuner.ts`) on a simulated pool with a clock of its own, so that its
 * decisions can be checked exactly (the real-server test in pool.test.ts shows the same on a live pool, where the
 * machine's load makes timing loose): it spreads statements the server is the limit for when that pays, never quick
 * ones nor answers that wait for the client, goes back to full depth when a workload turns quick, and ignores
 * windows in which the pool was not saturated.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SpreadTuner, type TunedConnections, type TunerWindow } from "../src/pool/spread-tuner.js";

const MAX_DEPTH = 1024;

/** A workload: throughput (answers per ms) at a given depth limit, and how answers arrive. */
interface Workload {
  rate(limit: number): number;
  /** Answers per socket read. */
  perRead: number;
  /** Statements in flight (the backlog on the busiest connection when not spread). */
  inFlight: number;
}

/** Drives `tuner` through `ms` of simulated time under `load`; returns the factor at the end. */
function simulate(tuner: SpreadTuner, clock: { t: number }, load: Workload, ms: number, gapEvery = 0): number {
  const end = clock.t + ms;
  let answers = 0;
  const conns: TunedConnections = {
    backlog: () => Math.min(load.inFlight, Math.max(1, Math.floor(MAX_DEPTH * tuner.factor))),
    window: (): TunerWindow => {
      const limit = Math.max(1, Math.floor(MAX_DEPTH * tuner.factor));
      const w = { active: Math.min(10, Math.ceil(load.inFlight / limit)), answers, reads: Math.ceil(answers / load.perRead) };
      answers = 0;
      return w;
    },
  };
  while (clock.t < end) {
    const limit = Math.max(1, Math.floor(MAX_DEPTH * tuner.factor));
    clock.t += 1 / load.rate(limit);
    if (gapEvery > 0 && answers % gapEvery === 0) clock.t += 100; // the pool goes idle now and then
    answers++;
    tuner.answered(conns);
  }
  return tuner.factor;
}

/** Statements the server spends real time on: 48 in flight; spreading over several server processes doubles throughput. */
const heavy: Workload = { inFlight: 48, perRead: 1, rate: (limit) => (limit >= 48 ? 5 : limit >= 12 ? 8 : 10) };
/** Quick statements: one deep pipeline is best. */
const quick: Workload = { inFlight: 100, perRead: 8, rate: (limit) => (limit >= 100 ? 150 : 110) };
/**
 * Slow to come but waiting to be read (the client is the limit). Its rate rewards spreading here, as a busy machine's
 * noise can: the tuner must not even try.
 */
const clientBound: Workload = { ...heavy, perRead: 6 };

describe("spread tuner", () => {
  test("heavy statements: it spreads them, step by step, while that pays", () => {
    const clock = { t: 0 };
    const tuner = new SpreadTuner(MAX_DEPTH, () => clock.t);
    const factor = simulate(tuner, clock, heavy, 10_000);
    const limit = Math.floor(MAX_DEPTH * factor);
    assert.ok(limit < 12, `depth limit ${limit} after 10 s of heavy statements`);
  });

  test("quick statements are never spread", () => {
    const clock = { t: 0 };
    const tuner = new SpreadTuner(MAX_DEPTH, () => clock.t);
    assert.equal(simulate(tuner, clock, quick, 10_000), 1);
  });

  test("answers that wait to be read (several per socket read) are not spread, however slow they come", () => {
    const clock = { t: 0 };
    const tuner = new SpreadTuner(MAX_DEPTH, () => clock.t);
    assert.equal(simulate(tuner, clock, clientBound, 10_000), 1);
  });

  test("after a heavy phase, quick statements bring it back to full depth within seconds", () => {
    const clock = { t: 0 };
    const tuner = new SpreadTuner(MAX_DEPTH, () => clock.t);
    assert.ok(simulate(tuner, clock, heavy, 10_000) < 1);
    assert.equal(simulate(tuner, clock, quick, 6_000), 1);
  });

  test("windows in which the pool was not saturated decide nothing", () => {
    const clock = { t: 0 };
    const tuner = new SpreadTuner(MAX_DEPTH, () => clock.t);
    // Every 40 answers the pool idles for 100 ms: no 64 answers ever come within 50 ms.
    assert.equal(simulate(tuner, clock, heavy, 20_000, 40), 1);
  });
});
