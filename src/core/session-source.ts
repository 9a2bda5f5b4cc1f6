/**
 * The session-source seam: what an {@link AsyncDatabase} needs from where its connections come from. The default
 * implementation is {@link ConnectionSource} (one shared pipelined connection, dedicated plain ones in a small
 * idle cache); a pooled database supplies its own by overriding `AsyncDatabase._createSessionSource`.
 * @module
 */
import type { Config } from "../config.js";
import type { TscopgError } from "../errors.js";
import type { PgSession } from "./pg-session.js";

/** Told when a session of a source breaks: the session, and a `ConnectionError` saying why. */
export type BrokenListener = (session: PgSession, reason: TscopgError) => void;

/**
 * Where a database handle gets its sessions.
 *
 * - {@link shared}: the pipelined session that independent statements share (each commits on its own).
 * - {@link acquire} / {@link release}: dedicated plain sessions (transactions, connections, cursors, COPY), each
 *   used by one borrower at a time. Whatever the borrower left behind (an open transaction, session state) is
 *   the source's to reset before the next borrower gets the session.
 */
export interface SessionSource {
  /** The configuration sessions are opened with. */
  readonly config: Config;
  /** The shared pipelined session, opened on first use (and again after it broke). */
  shared(): PgSession | Promise<PgSession>;
  /** A dedicated plain session for one borrower; give it back with {@link release}. */
  acquire(): Promise<PgSession>;
  /**
   * Takes a dedicated session back. Returns at once: resetting the session (rolling back what is open, resetting
   * state it changed) happens before its next borrower gets it, not in the caller's path.
   */
  release(session: PgSession): void;
  /** Open connections: the shared one, idle, in use and being reset. */
  readonly size: number;
  /** Closes every session; resets in progress finish first. The source cannot be used afterwards. */
  close(): Promise<void>;
  /**
   * Calls `listener` each time one of its sessions breaks (the server ended it, the socket failed, no answer
   * within the query timeout): never for sessions closed on purpose. Returns a function that removes it.
   */
  onBroken(listener: BrokenListener): () => void;
  /**
   * Opens a plain session for one long-lived user (a LISTEN listener): never taken from nor given back to the idle
   * cache (whose reset runs `UNLISTEN *`), counted in {@link size} until it ends. The user closes it; {@link close}
   * closes it too. Resolves `undefined` once the source is closed.
   */
  standalone(): Promise<PgSession | undefined>;
}

/**
 * Runs `fn` on a session of the database's source, outside any transaction (each statement commits on its own),
 * giving the session back when `fn` settles. See `Queryable._withOwnSession`.
 */
export type OwnSessionRunner = (<T>(fn: (session: PgSession) => Promise<T>) => Promise<T>) & {
  /** The database source's {@link SessionSource.standalone}. */
  standalone(): Promise<PgSession | undefined>;
};
