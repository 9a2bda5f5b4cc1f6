/**
 * Running one COPY on a plain session, both directions, through `PgSession.submit` (pg-copy-streams does the
 * protocol): {@link copyIn} streams byte chunks with backpressure and resolves with the server's row count;
 * {@link copyOut} hands the output's chunks to a callback that may take its time.
 * @module
 */
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFromStream, to as copyToStream } from "pg-copy-streams";
import { abortedByClient, cancellable } from "../core/cancel.js";
import type { PgSession } from "../core/pg-session.js";

/**
 * Runs `text` (a `COPY … FROM STDIN`) on `session`, sending `chunks` as they come (a chunk is written once the
 * previous ones were taken by the socket: the source is pulled no faster than the server reads). A source that
 * throws fails the COPY (CopyFail: the server discards everything) and its error is the one raised.
 * `onStream` is given the COPY stream before anything is sent (to end the COPY from outside: see {@link copyInCancellable}).
 * @returns the server's row count (its command tag).
 */
export async function copyIn(
  session: PgSession,
  text: string,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  onStream?: (stream: Writable) => void,
): Promise<number> {
  const stream = copyFromStream(text);
  onStream?.(stream);
  await session.submit(stream, (s) => pipeline(Readable.from(chunks, { objectMode: true, highWaterMark: 4 }), s));
  return stream.rowCount;
}

/**
 * Runs `text` (a `COPY … TO STDOUT`) on `session`, awaiting `onChunk` for each chunk of output. If `onChunk`
 * rejects, the exchange is abandoned (the connection is closed: a COPY TO cannot be stopped half-way) and its
 * error is raised.
 * @returns the server's row count.
 */
export async function copyOut(session: PgSession, text: string, onChunk: (chunk: Buffer) => Promise<void>): Promise<number> {
  const stream = copyToStream(text);
  await session.submit(stream, async (s) => {
    for await (const chunk of s) await onChunk(chunk as Buffer);
  });
  return stream.rowCount;
}

const LEADING = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;

/** Whether `sql` is a COPY statement whose data goes `direction` (its text, not run: a clear check before sending). */
export function isCopy(sql: string, direction: "FROM STDIN" | "TO STDOUT"): boolean {
  const body = sql.replace(LEADING, "");
  if (!/^copy\b/i.test(body)) return false;
  const [word, target] = direction.split(" ") as [string, string];
  return new RegExp(`\\b${word}\\s+${target}\\b`, "i").test(body);
}

/**
 * {@link copyIn} under `signal` (see `cancellable`): an abort sends a cancel request and, as PostgreSQL notices a
 * cancel during COPY FROM STDIN only when more data arrives (a source waiting for its next row would keep the COPY
 * open), also ends the COPY from this side (CopyFail), so the call rejects with a `QueryCanceled` at once whatever
 * the source is doing.
 */
export function copyInCancellable(
  session: PgSession,
  text: string,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  signal: AbortSignal | undefined,
): Promise<number> {
  let stream: Writable | undefined;
  return cancellable(
    session,
    signal,
    () => copyIn(session, text, chunks, (w) => (stream = w)),
    () => stream?.destroy(abortedByClient("COPY")),
  );
}
