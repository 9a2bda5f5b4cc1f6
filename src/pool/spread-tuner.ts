/**
 * How far a pool spreads independent statements over its connections, tuned by measuring.
 *
 * Pipelining is best for statements the server answers quickly (the client is the limit: one deep pipeline beats
 * many shallow ones). For statements the server spends real time on, one pipeline keeps one server process busy
 * while others idle; spreading them over more connections uses more of the server, or not, depending on how many
 * cores it has, which the client cannot know. So the tuner tries: while a connection has a backlog of statements
 * that are slow to answer, it now and then lowers every connection's depth limit (to a quarter of that backlog, at
 * most a quarter of what it was) for one window of about 250 ms, and keeps the change only if throughput rose by a
 * tenth; otherwise it goes back and waits longer before the next try (0.5 s doubling to 8 s). Once spread, it also
 * tries going back to full depth, kept unless throughput drops by 3 % (the same work on fewer connections is
 * better; such tries back off to 4 s only, so that a workload turned quick is concentrated again soon). Quick
 * statements (less than {@link QUICK_ANSWER_MS} per answer on each connection that answered) are never spread, nor
 * are answers that wait to be read (several per socket read: the client is the limit, and more connections would
 * not help), nor anything while the pool is not saturated (a window is dropped when 64 answers take over 50 ms).
 * @module
 */

/** A window's time per answer on each connection that answered (ms) from which spreading is worth a try. */
const QUICK_ANSWER_MS = 0.03;
const WINDOW_MS = 250;
/** 64 answers slower than this (ms) mean the pool is not saturated: the window is dropped (a try is undone). */
const SATURATED_MS = 50;
const MIN_FACTOR = 1 / 4096;

/** What the connections did during a window (see `Members.window`). */
export interface TunerWindow {
  /** Connections that answered. */
  active: number;
  /** Their answers, and the socket reads that brought them. */
  answers: number;
  reads: number;
}

/** What the tuner reads from the pool's connections. */
export interface TunedConnections {
  /** The most statements in flight on one shared connection. */
  backlog(): number;
  /** The window since the last call; starts a new one. */
  window(): TunerWindow;
}

/** Answers per socket read from which the client, not the server, is the limit (answers wait to be read). */
const CLIENT_BOUND_PER_READ = 3;

/** The pool-wide spread: a factor on every connection's depth limit. */
export class SpreadTuner {
  /** Multiplies every connection's depth limit (1: as deep as allowed; smaller: spread wider). */
  factor = 1;
  private answers = 0;
  private windows = 0;
  private windowStart: number;
  private lastCount: number;
  private baseline = 0;
  /** The factor before the try in progress, if one is, and which way it went. */
  private trying: number | undefined;
  private tryingWider = false;
  private lastWider = false;
  private nextTry = 0;
  /** Pause after a try, per direction: wider tries back off to 8 s, deeper ones to 4 s (to come back soon). */
  private widerBackoffMs = 500;
  private deeperBackoffMs = 500;

  /** `maxDepth`: the pool's `pipelineDepth`, the depth limit at factor 1; `now`: the clock (ms). */
  constructor(
    private readonly maxDepth: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.windowStart = this.lastCount = now();
  }

  /** Counts an answer on a shared connection of `members`; every so often closes the window and decides. */
  answered(members: TunedConnections): void {
    if ((++this.answers & 63) !== 0) return;
    const now = this.now();
    const sinceLast = now - this.lastCount;
    this.lastCount = now;
    if (sinceLast > SATURATED_MS) {
      // Idle or light: rates mean nothing now. Start afresh, undoing a try in progress.
      if (this.trying !== undefined) this.factor = this.trying;
      this.trying = undefined;
      this.answers = 0;
      this.windowStart = now;
      members.window(); // starts the connections' counts afresh too
      return;
    }
    const elapsed = now - this.windowStart;
    if (elapsed < WINDOW_MS) return;
    const rate = this.answers / elapsed;
    // Time per answer on each connection that worked: the server's time per statement when it is the limit. And
    // answers per read: several mean they waited for the client, whatever their pace.
    const w = members.window();
    const perAnswerMs = Math.max(1, w.active) / rate;
    const clientBound = w.reads > 0 && w.answers / w.reads >= CLIENT_BOUND_PER_READ;
    this.answers = 0;
    this.windowStart = now;
    if (this.trying !== undefined) {
      // Wider must clearly help; deeper is kept unless it clearly hurts (fewer connections, same work).
      const kept = this.tryingWider ? rate > this.baseline * 1.1 : rate >= this.baseline * 0.97;
      if (kept) this.baseline = rate;
      else this.factor = this.trying;
      let pause: number;
      if (this.tryingWider) pause = this.widerBackoffMs = kept ? 500 : Math.min(8000, this.widerBackoffMs * 2);
      else pause = this.deeperBackoffMs = kept ? 500 : Math.min(4000, this.deeperBackoffMs * 2);
      this.lastWider = this.tryingWider;
      this.trying = undefined;
      this.nextTry = now + pause;
      return;
    }
    this.baseline = rate;
    if (++this.windows < 3 || now < this.nextTry) return; // the first windows measure a cold start
    const slow = perAnswerMs >= QUICK_ANSWER_MS && !clientBound && members.backlog() >= 4;
    if (this.factor < 1 && (!slow || this.lastWider)) {
      this.begin(1, false);
    } else if (slow) {
      // A try that could change anything: the busiest connection's backlog split in four, at least.
      const wider = Math.min(this.factor / 4, members.backlog() / 4 / this.maxDepth);
      if (wider >= MIN_FACTOR) this.begin(wider, true);
    }
  }

  private begin(factor: number, wider: boolean): void {
    this.trying = this.factor;
    this.tryingWider = wider;
    this.factor = factor;
  }
}
