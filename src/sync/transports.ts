/**
 * Transports: how a method's answer crosses from the worker to the main thread when a plain value would be too
 * slow (e.g. many rows: moved as bytes in chunks and decoded on the main thread, which is blocked anyway). Each
 * transport has a worker side, which runs the method and sends parts, and a main side, which consumes the parts
 * and builds the value the caller gets. The sync surface (`surface.ts`) says which method uses which.
 * @module
 */
import type { TransferListItem } from "node:worker_threads";

/** What a worker-side transport can do with the request it serves. */
export interface WorkerCall {
  readonly id: number;
  /**
   * Sends one part of the answer to the main thread (consumed by the transport's main side, in order). Without
   * `transfer` the part is v8-serialized like every message (Buffers, bigints, Dates arrive intact); with it, the
   * part is posted as it is (structured clone) and the listed objects (e.g. an `ArrayBuffer`) are moved, not copied.
   */
  part(part: unknown, transfer?: readonly TransferListItem[]): void;
}

/** The worker side: runs `method` on `obj` and resolves with the final value (sent after the parts). */
export type WorkerTransport = (call: WorkerCall, obj: Record<string | symbol, unknown>, method: string, args: unknown[]) => Promise<unknown>;

/** The main side of one call: takes the parts as they come, then builds the caller's value from the final one. */
export interface MainReceiver {
  onPart(part: unknown): void;
  finish(value: unknown): unknown;
}

/** A transport, both sides. */
export interface Transport {
  worker: WorkerTransport;
  /**
   * `true`: `finish` gets the worker's final value as it came (not walked for handles and codec-encoded values,
   * which it must not hold); otherwise decoded like any answer.
   */
  raw?: boolean | undefined;
  /** A receiver for one call of `method` with `args` (as the caller gave them). */
  main(method: string, args: readonly unknown[]): MainReceiver;
}

/** Transports by name. */
export const transportTable: Record<string, Transport> = {};

/** Registers a transport (from a module both threads load). */
export function registerTransport(name: string, transport: Transport): void {
  transportTable[name] = transport;
}
