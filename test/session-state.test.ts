/**
 * Which statements may change session state (so the connection that ran them is reset before its next user), from
 * the words the placeholder scanner already finds: no server needed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TX_BEGINS, TX_ENDS, changesSessionState, transactionControl } from "../src/sql/placeholders.js";

describe("changesSessionState", () => {
  test("statements that change session state", () => {
    const stateful = [
      "SET search_path TO app",
      "set work_mem = '64MB'",
      "SET SESSION work_mem = '64MB'",
      "SET SESSION AUTHORIZATION alice",
      "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
      "SET ROLE alice",
      "SET",
      "RESET ALL",
      "reset search_path",
      "PREPARE p (int) AS SELECT $1",
      "LISTEN events",
      "LOAD 'auto_explain'",
      "DO $$ BEGIN PERFORM 1; END $$",
      "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
      "declare c no scroll cursor with hold for select 1",
      "CREATE TEMP TABLE x (i int)",
      "CREATE TEMPORARY TABLE x (i int)",
      "create global temporary table x (i int)",
      "CREATE LOCAL TEMP TABLE x (i int)",
      "CREATE OR REPLACE TEMP VIEW v AS SELECT 1",
      "CREATE TEMP SEQUENCE s",
      "SELECT 1 AS a INTO TEMP t",
      "SELECT 1 AS a INTO TEMPORARY TABLE t",
      "EXPLAIN ANALYZE CREATE TEMP TABLE x AS SELECT 1",
      "CREATE TABLE pg_temp.x (i int)",
      "CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
      "SELECT set_config('search_path', 'app', false)",
      "SELECT pg_advisory_lock(1)",
      "SELECT pg_advisory_lock_shared(1, 2)",
      "SELECT pg_try_advisory_lock(1)",
      "SELECT PG_TRY_ADVISORY_LOCK_SHARED(1)",
      "SELECT 1; SET search_path TO app",
      "/* a comment */ SET work_mem = '1MB'",
      "-- a comment\nSET work_mem = '1MB'",
      "UPDATE t SET x = 1; RESET work_mem",
      "SELECT 1;SET",
    ];
    for (const sql of stateful) assert.equal(changesSessionState(sql), true, sql);
  });

  test("statements that do not (a false positive would only cost a reset, but these are common)", () => {
    const stateless = [
      "SELECT 1",
      "SELECT $1::int",
      "INSERT INTO t (a) VALUES ($1)",
      "UPDATE t SET x = 1 WHERE id = $1",
      "SET LOCAL work_mem = '64MB'",
      "set local search_path to app",
      "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
      "SET CONSTRAINTS ALL DEFERRED",
      "SELECT pg_advisory_xact_lock(1)",
      "SELECT pg_try_advisory_xact_lock_shared(1)",
      "SELECT pg_advisory_unlock(1)",
      "DECLARE c CURSOR FOR SELECT 1",
      "DECLARE c CURSOR WITHOUT HOLD FOR SELECT 1",
      "DECLARE c CURSOR FOR SELECT 'with hold', 1 AS hold",
      "SELECT temp FROM weather",
      "SELECT temp, temporary FROM weather",
      "CREATE TABLE weather (temp int, temporary bool)",
      "CREATE TABLE t (i int)",
      "INSERT INTO weather (temp) VALUES (20)",
      "INSERT INTO weather VALUES ('temp')",
      "SELECT 'SET work_mem = 1'",
      'SELECT 1 AS "SET"',
      "SELECT $$ SET x = 1 $$",
      "-- SET work_mem = '1MB'\nSELECT 1",
      "/* RESET ALL */ SELECT 1",
      "BEGIN",
      "COMMIT",
      "ROLLBACK",
      "PREPARE TRANSACTION 'x'",
      "COPY t FROM STDIN",
      "VACUUM t",
      "DISCARD ALL",
      "UNLISTEN *",
      "DEALLOCATE ALL",
      "DOUBLE",
    ];
    for (const sql of stateless) assert.equal(changesSessionState(sql), false, sql);
  });

  test("transaction control is classified as before, also next to session-state words", () => {
    assert.equal(transactionControl("PREPARE TRANSACTION 'x'"), TX_ENDS);
    assert.equal(transactionControl("SET search_path TO a; BEGIN"), TX_BEGINS);
    assert.equal(transactionControl("SET TRANSACTION READ ONLY"), 0);
    assert.equal(transactionControl("START TRANSACTION; SET LOCAL x = 1; COMMIT"), TX_BEGINS | TX_ENDS);
    assert.equal(transactionControl("DO $$ BEGIN END $$"), 0);
  });

  test("texts too long for the statement cache are classified too", () => {
    const filler = `SELECT ${"1, ".repeat(10_000)}1`;
    assert.ok(filler.length > 16_384);
    assert.equal(changesSessionState(filler), false);
    assert.equal(changesSessionState(`${filler}; SET work_mem = '1MB'`), true);
    assert.equal(transactionControl(`${filler}; COMMIT`), TX_ENDS);
  });
});
