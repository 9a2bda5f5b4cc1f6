/**
 * Test support: a tiny fake PostgreSQL server on a loopback port, for the failures a real server cannot be made to
 * show on demand (a black hole, a given start-up error, a server that stops answering after start-up, a reset).
 * It speaks just enough of the protocol (see PostgreSQL's "Message Formats") for node-postgres.
 *
 * `inThread: true` runs it in a worker thread, for the synchronous facade: while a blocking call waits, this
 * thread's event loop cannot answer anything.
 */
import net from "node:net";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

/** What the fake server does with each connection. */
export type FakeBehaviour =
  /** Accepts and never answers (nor reads). */
  | { kind: "black-hole" }
  /** Answers the start-up message with a FATAL ErrorResponse carrying `code`, then closes. */
  | { kind: "error"; code: string; message: string }
  /** Completes start-up (AuthenticationOk, ParameterStatus, BackendKeyData, ReadyForQuery), then never answers. */
  | { kind: "silent-after-startup" }
  /** Resets the first `resets` connections; forwards the later ones to `target` (a real server). */
  | { kind: "reset-then-proxy"; resets: number; target: { host: string; port: number } };

export interface FakeServer {
  port: number;
  /** Connections accepted so far (in-process servers only; always 0 for `inThread`). */
  readonly connections: number;
  /** Connections closed since (in-process servers only). */
  readonly closed: number;
  stop(): Promise<void>;
}

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function int32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeInt32BE(v, 4 * i));
  return b;
}

const cstrings = (...parts: string[]) => Buffer.from(parts.map((p) => `${p}\0`).join(""), "utf8");

const startupDone = Buffer.concat([
  message("R", int32(0)), // AuthenticationOk
  message("S", cstrings("server_version", "15.0")), // ParameterStatus
  message("S", cstrings("client_encoding", "UTF8")),
  message("K", int32(4242, 1234)), // BackendKeyData
  message("Z", Buffer.from("I")), // ReadyForQuery, idle
]);

function errorResponse(code: string, text: string): Buffer {
  return message("E", Buffer.concat([cstrings("SFATAL", "VFATAL", `C${code}`, `M${text}`), Buffer.from([0])]));
}

/** Starts a fake server in this thread. */
export async function startFakeServer(behaviour: FakeBehaviour): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let closed = 0;
  const server = net.createServer((socket) => {
    const index = connections++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => {
      closed++;
      sockets.delete(socket);
    });
    switch (behaviour.kind) {
      case "black-hole":
        socket.pause();
        break;
      case "error":
        socket.once("data", () => socket.end(errorResponse(behaviour.code, behaviour.message)));
        break;
      case "silent-after-startup":
        // After start-up, whatever the client sends is read and ignored: nothing is ever answered.
        socket.once("data", () => {
          socket.write(startupDone);
          socket.on("data", () => {});
        });
        break;
      case "reset-then-proxy": {
        if (index < behaviour.resets) {
          socket.resetAndDestroy();
          break;
        }
        const upstream = net.connect(behaviour.target.port, behaviour.target.host);
        upstream.on("error", () => socket.destroy());
        socket.on("close", () => upstream.destroy());
        upstream.on("close", () => socket.destroy());
        socket.pipe(upstream).pipe(socket);
        break;
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get connections() {
      return connections;
    },
    get closed() {
      return closed;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts a fake server in a worker thread (it keeps answering while this thread blocks). */
export async function startFakeServerThread(behaviour: FakeBehaviour): Promise<FakeServer> {
  // Worker threads do not inherit tsx's loader: register it first (as src/sync/bridge.ts does).
  const api = import.meta.resolve("tsx/esm/api");
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  const worker = new Worker(code, { eval: true, workerData: { fakeServer: behaviour } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  return { port, connections: 0, closed: 0, stop: () => worker.terminate().then(() => undefined) };
}

if (!isMainThread && (workerData as { fakeServer?: FakeBehaviour } | null)?.fakeServer) {
  const server = await startFakeServer((workerData as { fakeServer: FakeBehaviour }).fakeServer);
  parentPort!.postMessage(server.port);
}
