/**
 * A one-item handoff from a producer that runs inside a callback (a COPY TO stream read by `PgSession.submit`'s
 * driver) to a consumer that pulls with `next()` (an async iterator given to the user): the producer waits until
 * its item is taken, so nothing piles up, and learns through a rejection when the consumer has gone away.
 * @module
 */

/** The error a producer's `put` rejects with once the consumer has stopped (`return()`). */
export class ConsumerGone extends Error {
  constructor() {
    super("the consumer stopped reading");
  }
}

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

export class Handoff<T> {
  #item: { value: T; taken: Waiter<void> } | undefined;
  #consumer: Waiter<IteratorResult<T>> | undefined;
  #over: { error?: unknown } | undefined;
  #gone = false;

  /** Hands `value` over; resolves once the consumer took it, rejects with {@link ConsumerGone} if it stopped. */
  put(value: T): Promise<void> {
    if (this.#gone) return Promise.reject(new ConsumerGone());
    return new Promise<void>((resolve, reject) => {
      const c = this.#consumer;
      if (c !== undefined) {
        this.#consumer = undefined;
        c.resolve({ done: false, value });
        resolve();
      } else this.#item = { value, taken: { resolve, reject } };
    });
  }

  /** The producer is done: the consumer's next `next()` ends (or rejects with `error`). */
  close(error?: unknown): void {
    if (this.#over !== undefined) return;
    const c = this.#consumer;
    this.#consumer = undefined;
    // An error is reported once (to the waiting consumer, or at the next pull); after it, the iterator is done.
    this.#over = error === undefined || c !== undefined ? {} : { error };
    if (c === undefined) return;
    if (error === undefined) c.resolve({ done: true, value: undefined });
    else c.reject(error);
  }

  /** The consumer's pull. */
  next(): Promise<IteratorResult<T>> {
    const item = this.#item;
    if (item !== undefined) {
      this.#item = undefined;
      item.taken.resolve();
      return Promise.resolve({ done: false, value: item.value });
    }
    if (this.#over !== undefined) {
      const { error } = this.#over;
      this.#over = {};
      return error === undefined ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(error);
    }
    return new Promise((resolve, reject) => (this.#consumer = { resolve, reject }));
  }

  /** The consumer stops: a waiting or later `put` rejects with {@link ConsumerGone}. */
  stop(): void {
    this.#gone = true;
    const item = this.#item;
    this.#item = undefined;
    item?.taken.reject(new ConsumerGone());
  }
}
