/**
 * What every session source does the same way: deciding whether a session given back is clean, resetting it
 * off the borrower's path, keeping LISTEN listeners' standalone sessions, and calling user hooks without letting
 * their errors into the driver.
 * @module
 */
import type { Config } from "../config.js";
import { PgSession } from "./pg-session.js";

/** Whether a session given back can go to the next borrower as it is: idle, outside a transaction, state unchanged. */
export function isClean(session: PgSession): boolean {
  return session.settled() === undefined && session.txStatus === "I" && !session.stateChanged;
}

/**
 * Makes a session given back reusable: waits for statements in flight, rolls back an open transaction, and runs
 * `DISCARD ALL` if it changed session state (settings, temporary tables, prepared statements, LISTEN, advisory
 * locks, held cursors). Resolves `false` when that failed (the session is then to be closed).
 */
export async function resetForReuse(session: PgSession): Promise<boolean> {
  try {
    await session.settled();
    if (session.txStatus !== "I") await session.command("ROLLBACK");
    if (session.stateChanged) {
      await session.command("DISCARD ALL");
      session.statements?.clear();
      session.stateChanged = false;
    }
    return !session.broken;
  } catch {
    return false;
  }
}

/** Calls a user's hook; an error it throws is rethrown on its own (an uncaught exception), never into the driver. */
export function callHook<A extends unknown[]>(hook: ((...args: A) => void) | undefined, ...args: A): void {
  if (hook === undefined) return;
  try {
    hook(...args);
  } catch (err) {
    queueMicrotask(() => {
      throw err; // a hook's own error is not the driver's to handle
    });
  }
}

/** The standalone sessions of a source (see `SessionSource.standalone`): open until their user closes them. */
export class Standalones {
  private readonly sessions = new Set<PgSession>();

  get size(): number {
    return this.sessions.size;
  }

  /** Opens one (plain, `attempts` rounds over the hosts); `undefined` once `closed()` says the source is closed. */
  async open(config: Config, attempts: number, closed: () => boolean): Promise<PgSession | undefined> {
    if (closed()) return undefined;
    const session = await PgSession.open(config, { pipeline: false, attempts });
    if (closed()) {
      await session.close();
      return undefined;
    }
    this.sessions.add(session);
    session.client.once("end", () => this.sessions.delete(session));
    return session;
  }

  /** Closes them all. */
  close(): Promise<void>[] {
    const closing = [...this.sessions].map((s) => s.close());
    this.sessions.clear();
    return closing;
  }
}

/** Background work a source must wait for when it closes (resets, closes, connection attempts): never rejects. */
export class Tasks {
  private readonly pending = new Set<Promise<void>>();

  /** Keeps `task` (which must not reject) until it settles. */
  add(task: Promise<void>): void {
    this.pending.add(task);
    const done = () => void this.pending.delete(task);
    task.then(done, done);
  }

  /** Resolves once every task (including those added meanwhile) has settled. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }
}
