/**
 * The engine of `listen` and `notifies`: a {@link Listener} owns one standalone session (never from nor to the idle
 * cache), runs `LISTEN` for each channel on it, queues the notifications it receives, and hands them out as an
 * async iterator. On a lost connection it may reconnect with back-off and LISTEN again, leaving a marker in the
 * queue where notifications may have been lost.
 * @module
 */
import { ConnectionError, TscopgError } from "../errors.js";
import type { PgSession } from "../core/pg-session.js";
import { ident, sql } from "../sql/compose.js";
import type { Executor } from "./registry.js";

/** One notification: the channel it was sent on, its payload (`""` when none) and the sender's backend pid. */
export interface Notification {
  readonly channel: string;
  readonly payload: string;
  readonly pid: number;
}

/** What `onReconnect` is told: why the connection was lost, and how many attempts reconnecting took. */
export interface ReconnectEvent {
  /** Why the listener's connection was lost (e.g. SQLSTATE 57P01 after `pg_terminate_backend`). */
  readonly error: ConnectionError;
  /** Connection attempts it took (1 = the first one succeeded). */
  readonly attempts: number;
}

/** How a listener behaves (the options of `listen` and `notifies`, checked). */
export interface ListenerSettings {
  signal?: AbortSignal | undefined;
  onReconnect?: ((event: ReconnectEvent) => void | Promise<void>) | undefined;
  /** Connection attempts after a loss before giving up (0: no reconnection, the loss is an error). */
  reconnectAttempts: number;
  /** Ends the iteration after this many ms without a notification (none: waits for ever). */
  timeout?: number | undefined;
  /** Ends the iteration after this many notifications. */
  stopAfter?: number | undefined;
}

/** The first back-off delay (ms) before reconnecting; it doubles at each failed attempt, up to {@link MAX_DELAY}. */
const FIRST_DELAY = 100;
const MAX_DELAY = 5000;

/** A place in the queue where the connection was lost and got back: notifications may be missing here. */
class Marker {
  constructor(readonly event: ReconnectEvent) {}
}

interface Waiter {
  resolve(r: IteratorResult<Notification>): void;
  reject(err: unknown): void;
}

const DONE: IteratorResult<Notification> = Object.freeze({ done: true, value: undefined });

/**
 * Listens on channels over a session of its own and yields their notifications, in the order the server sent
 * them. It connects and runs `LISTEN` at once (see {@link ready}); it ends (its session closed) on `return()`
 * (`break` out of a `for await`), on `signal.abort()`, after `stopAfter` notifications or `timeout` ms without
 * one, when its database is closed, or when reconnecting fails (that error is thrown to the consumer).
 *
 * Notifications received while nobody is reading are queued without bound (PostgreSQL queues for a listener that
 * does not read too, up to 8 GB, and then fails the senders' commits: read them).
 */
export class Listener implements AsyncIterableIterator<Notification>, AsyncDisposable {
  readonly #db: Executor;
  readonly #listen: string;
  readonly #settings: ListenerSettings;
  readonly #queue: (Notification | Marker)[] = [];
  readonly #waiters: Waiter[] = [];
  #session: PgSession | undefined;
  #closed = false;
  /** A failure the consumer is told about at its next `next()`. */
  #failure: unknown;
  #delivered = 0;
  /** Keeps the process alive while a consumer waits for a notification. */
  #keepAlive: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #sleep: { timer: NodeJS.Timeout; wake(): void } | undefined;
  readonly #onAbort = () => void this.close();
  readonly #ready: Promise<void>;

  /** @internal Use `db.listen()` or `db.notifies()`. */
  constructor(db: Executor, channels: readonly string[], settings: ListenerSettings) {
    this.#db = db;
    this.#settings = settings;
    this.#listen = channels.map((c) => sql`LISTEN ${ident(c, "channel")}`.text).join("; ");
    const { signal } = settings;
    if (signal?.aborted === true) {
      this.#closed = true;
      this.#ready = Promise.resolve();
      return;
    }
    signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#ready = this.#connect().then((session) => {
      if (session === undefined) throw new TscopgError("the database handle is closed");
    });
    // A failure is the consumer's (at its next next(), or from `ready`): never an unhandled rejection.
    this.#ready.catch((err: unknown) => this.#fail(err));
  }

  /**
   * Resolves once every channel is listened to (notifications sent from then on are received); rejects if
   * connecting or `LISTEN` failed (the same error the iteration throws).
   */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Opens a session, listens to its notifications and runs LISTEN; `undefined` when the database is closed. */
  async #connect(): Promise<PgSession | undefined> {
    const session = await this.#db._openStandalone();
    if (session === undefined) return undefined;
    if (this.#closed) {
      await session.close();
      return session;
    }
    let lost = false;
    session.client.on("notification", (msg: { channel: string; payload?: string; processId: number }) => {
      this.#push({ channel: msg.channel, payload: msg.payload ?? "", pid: msg.processId });
    });
    session.onBroken((reason) => {
      lost = true;
      if (this.#session === session) void this.#lost(reason as ConnectionError); // always one (see PgSession.onBroken)
    });
    session.client.once("end", () => {
      // Ended neither by us nor by a failure: its database was closed.
      if (!lost && this.#session === session) {
        this.#session = undefined; // already closed
        void this.close();
      }
    });
    try {
      await session.command(this.#listen);
    } catch (err) {
      await session.close();
      throw err;
    }
    this.#session = session;
    if (this.#closed) await session.close();
    return session;
  }

  /** The connection was lost: reconnect (with back-off) and mark the gap, or fail. */
  async #lost(reason: ConnectionError): Promise<void> {
    this.#session = undefined;
    if (this.#closed) return;
    let delay = FIRST_DELAY;
    let last: unknown = reason;
    for (let attempt = 1; attempt <= this.#settings.reconnectAttempts; attempt++) {
      await this.#pause(delay);
      if (this.#closed) return;
      try {
        const session = await this.#connect();
        if (session === undefined) return void this.close(); // the database was closed meanwhile
        if (this.#closed) return;
        this.#push(new Marker({ error: reason, attempts: attempt }));
        return;
      } catch (err) {
        last = err;
        if (!(err instanceof ConnectionError)) break;
        delay = Math.min(delay * 2, MAX_DELAY);
      }
    }
    this.#fail(last);
  }

  /** Waits `ms` (cut short by {@link close}). */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleep = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleep = { timer, wake };
    });
  }

  #push(item: Notification | Marker): void {
    if (this.#closed) return;
    this.#queue.push(item);
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) this.#serve(waiter);
  }

  #fail(err: unknown): void {
    if (this.#closed || this.#failure !== undefined) return;
    this.#failure = err;
    for (const waiter of this.#waiters.splice(0)) this.#serve(waiter);
  }

  /** How many items are queued (the synchronous facade's worker sends only those with the first one). @internal */
  _available(): number {
    return this.#queue.length;
  }

  /** Hands the next item (or the end, or the failure) to `waiter`. */
  #serve(waiter: Waiter): void {
    this.#settle();
    const item = this.#queue.shift();
    if (item instanceof Marker) {
      const { onReconnect } = this.#settings;
      Promise.resolve()
        .then(() => onReconnect?.(item.event))
        .then(
          () => this.#take(waiter),
          (err: unknown) => {
            void this.close();
            waiter.reject(err);
          },
        );
    } else if (item !== undefined) {
      if (++this.#delivered === this.#settings.stopAfter) void this.close();
      waiter.resolve({ done: false, value: item });
    } else if (this.#failure !== undefined) {
      const err = this.#failure;
      void this.close();
      waiter.reject(err);
    } else {
      waiter.resolve(DONE);
    }
  }

  /** Serves `waiter` now if something is there (or the iteration is over), else queues it. */
  #take(waiter: Waiter): void {
    if (this.#queue.length > 0 || this.#failure !== undefined || this.#closed) {
      this.#serve(waiter);
      return;
    }
    this.#waiters.push(waiter);
    this.#keepAlive ??= setInterval(() => {}, 1 << 30);
    const { timeout } = this.#settings;
    if (timeout !== undefined && this.#idleTimer === undefined) this.#idleTimer = setTimeout(() => void this.close(), timeout);
  }

  /** Nobody waits any more: the timers go. */
  #settle(): void {
    if (this.#waiters.length > 0) return;
    clearInterval(this.#keepAlive);
    clearTimeout(this.#idleTimer);
    this.#keepAlive = undefined;
    this.#idleTimer = undefined;
  }

  /** The next notification; `{ done: true }` once the listener has ended. */
  next(): Promise<IteratorResult<Notification>> {
    if (this.#closed && this.#queue.length === 0 && this.#failure === undefined) return Promise.resolve(DONE);
    if (this.#settings.stopAfter === 0) return this.close().then(() => DONE);
    return new Promise((resolve, reject) => this.#take({ resolve, reject }));
  }

  /** Ends the iteration and closes the connection (what `break` calls). */
  async return(): Promise<IteratorResult<Notification>> {
    await this.close();
    return DONE;
  }

  /**
   * Stops listening: closes the connection, ends the iteration (a pending `next()` resolves `{ done: true }`;
   * notifications still queued are dropped). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#failure = undefined;
    this.#settings.signal?.removeEventListener("abort", this.#onAbort);
    this.#sleep?.wake();
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(DONE);
    this.#settle();
    const session = this.#session;
    this.#session = undefined;
    await session?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
