/**
 * LISTEN/NOTIFY: `listen` (async only: an async iterable that may wait for ever, on a connection of its own that
 * reconnects), `notifies` (the pull form, on both sides: it ends after `timeout` ms without a notification or
 * after `stopAfter` of them), `notify` (`pg_notify` with bind parameters).
 * @module
 */
import type { Mode, Out } from "../core/api.js";
import { checkOptions } from "../core/options.js";
import { ParameterError } from "../errors.js";
import { describeValue, validateIdentifiers } from "../sql/identifiers.js";
import { Listener, type ListenerSettings, type Notification, type ReconnectEvent } from "./listen-listener.js";
import { defineFeature } from "./feature-meta.js";
import type { AsyncOnly, Executor, Feature } from "./registry.js";
import { checkCount } from "./where.js";

export { Listener, type Notification, type ReconnectEvent } from "./listen-listener.js";

/** Options of {@link NotifyApi.listen}. */
export interface ListenOptions {
  /** Aborting it ends the iteration (a pending `next()` resolves `{ done: true }`) and closes the connection. */
  signal?: AbortSignal | undefined;
  /**
   * Called when the listener got its connection back after losing it (a server restart, `pg_terminate_backend`,
   * a network failure), in the stream's order: after the notifications received before the loss, before those
   * received after it. Notifications sent while it was down are lost: resynchronise here (re-read the state the
   * notifications were about). Awaited; if it throws, the iteration throws that error and ends.
   */
  onReconnect?: ((event: ReconnectEvent) => void | Promise<void>) | undefined;
  /**
   * Connection attempts after a loss before giving up (the iteration then throws the last `ConnectionError`):
   * the first after 100 ms, each later one after twice the delay, at most 5 s apart; each attempt itself tries
   * every configured host (the handle's `connectAttempts` rounds). `0`: no reconnection, a loss is an error.
   * `Infinity`: for ever. Default 10 (about 25 s of waiting).
   */
  reconnectAttempts?: number | undefined;
}

/** Options of {@link NotifyApi.notifies}. */
export interface NotifiesOptions {
  /** End the iteration after this many ms with no notification (counted while the caller waits). Default: none. */
  timeout?: number | undefined;
  /** End the iteration after this many notifications. Default: none. */
  stopAfter?: number | undefined;
}

/** A payload: a string is sent as is; anything else (number, boolean, null, array, object) JSON-encoded. */
export type NotifyPayload = string | number | boolean | null | readonly unknown[] | object;

/** The longest payload PostgreSQL accepts, in bytes (it must be shorter than 8000). */
export const MAX_PAYLOAD_BYTES = 7999;

/** Methods present on both sides. */
export interface NotifyBaseApi<M extends Mode> {
  /**
   * Sends a notification: `SELECT pg_notify($1, $2)`, channel and payload as bind parameters. A string payload is
   * sent as is, anything else JSON-encoded; none is `""`. Inside a `transaction()` callback (or on a transaction,
   * or a connection without autocommit) it is part of the transaction: delivered at commit, dropped by a rollback.
   * @throws {@link InvalidIdentifier} for an invalid channel name; {@link ParameterError} for a payload of more
   * than 7999 bytes in UTF-8 (PostgreSQL's limit) or one JSON cannot encode — before anything is sent.
   */
  notify(channel: string, payload?: NotifyPayload): Out<M, void>;
  /**
   * Listens on `channels` and returns an iterator over their notifications (the pull form, psycopg's
   * `conn.notifies()`): `LISTEN` has run when it returns, so notifications sent from then on — by work the
   * caller starts before iterating, too — are received. Iterating waits (blocking, on `Database`) for each
   * notification; it ends after `timeout` ms without one, after `stopAfter` notifications, or on `break`
   * (which closes its connection, as does finishing it).
   *
   * It runs on a connection of its own (never part of a transaction), which does not reconnect: a lost
   * connection throws a `ConnectionError` from the iteration.
   */
  notifies(
    channels: string | readonly string[],
    options?: NotifiesOptions,
  ): Out<M, M extends "async" ? Listener : IterableIterator<Notification> & Disposable>;
}

/** The async-only methods. */
export interface ListenApi {
  /**
   * Listens on `channels` (one name or several) on a connection of its own and returns an async iterable of their
   * notifications (`{ channel, payload, pid }`, `pid` the sender's backend), in the order they were sent.
   * It connects and runs `LISTEN` at once: await `listener.ready` before starting what notifies.
   *
   * It ends cleanly (its connection closed, the `for await` loop over) on `break`/`return()`, on
   * `signal.abort()`, on `listener.close()`, and when the database handle is closed. A lost connection is
   * re-opened with back-off and every channel listened to again: notifications sent meanwhile are lost, and
   * `onReconnect` is called where the gap is (see {@link ListenOptions.onReconnect}).
   *
   * Notifications not yet read are queued in memory without bound. A loop waiting on a listener keeps the
   * process alive; a listener nobody waits on does not (close it, or the database, when done).
   *
   * Async only: the synchronous `Database` has {@link NotifyBaseApi.notifies} instead.
   */
  listen(channels: string | readonly string[], options?: ListenOptions): Listener;
}

/** The LISTEN/NOTIFY methods' types in mode `M` (`listen` only in async mode). */
export type NotifyApi<M extends Mode> = NotifyBaseApi<M> & AsyncOnly<M, ListenApi>;

/** Validated channel names (one or several; at least one). */
function channelList(method: string, channels: unknown): string[] {
  const list = typeof channels === "string" ? [channels] : channels;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ParameterError(`${method}(): channels must be a channel name or a non-empty array of names, got ${describeValue(channels)}`);
  }
  return validateIdentifiers(list, "channel");
}

const LISTEN_OPTIONS = { onReconnect: "function", reconnectAttempts: "number", signal: "signal" } as const;
const NOTIFIES_OPTIONS = { timeout: "number", stopAfter: "number" } as const;

function listen(db: Executor, channels: string | readonly string[], options?: ListenOptions): Listener {
  const names = channelList("listen", channels);
  const { signal, onReconnect, reconnectAttempts = 10 } = checkOptions("listen", options, LISTEN_OPTIONS);
  if (reconnectAttempts !== Infinity) checkCount("listen", "reconnectAttempts (or Infinity)", reconnectAttempts);
  return new Listener(db, names, { signal, onReconnect, reconnectAttempts });
}

async function notifies(db: Executor, channels: string | readonly string[], options?: NotifiesOptions): Promise<Listener> {
  const names = channelList("notifies", channels);
  const { timeout, stopAfter } = checkOptions("notifies", options, NOTIFIES_OPTIONS);
  if (timeout !== undefined) checkCount("notifies", "timeout", timeout);
  if (stopAfter !== undefined) checkCount("notifies", "stopAfter", stopAfter);
  const settings: ListenerSettings = { reconnectAttempts: 0, timeout, stopAfter };
  const listener = new Listener(db, names, settings);
  await listener.ready;
  return listener;
}

/** The text sent for `payload`. @throws {@link ParameterError} when it cannot be encoded or is too long. */
export function payloadText(payload: unknown): string {
  let text: string | undefined;
  try {
    text = payload === undefined ? "" : typeof payload === "string" ? payload : JSON.stringify(payload, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  } catch (err) {
    throw new ParameterError(`notify(): the payload cannot be JSON-encoded: ${(err as Error).message}`, { cause: err });
  }
  if (typeof text !== "string") throw new ParameterError(`notify(): the payload cannot be JSON-encoded (got ${typeof payload})`);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new ParameterError(`notify(): the payload is ${bytes} bytes long in UTF-8; PostgreSQL accepts at most ${MAX_PAYLOAD_BYTES} bytes`);
  }
  return text;
}

async function notify(db: Executor, channel: string, payload?: NotifyPayload): Promise<void> {
  const [name] = channelList("notify", [channel]);
  await db.execute("SELECT pg_notify($1, $2)", [name, payloadText(payload)]);
}

export const notifyFeatures = {
  listen: defineFeature(listen, { asyncOnly: true }),
  notifies,
  notify,
} satisfies Record<string, Feature>;
