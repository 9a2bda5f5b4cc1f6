/**
 * When the blocked main thread busy-waits for the worker's answer before sleeping in `Atomics.wait`.
 *
 * Spinning pays on a machine with a free core: a quick answer (well under a millisecond) is caught without the
 * sleeping thread's wake-up, and the worker, which polls for the next request right after answering, gets it
 * without waking either. It costs on a machine whose cores are taken by other processes: the spinning thread
 * takes CPU time from the worker and from the server process it waits for, and a round trip gets slower than
 * with no spinning at all (measured on 2 cores with one busy process: fixed spinning 1.8k round trips/s, none
 * 3.9k; quiet: 5.1k and 3.1k).
 *
 * So spinning is judged by what it does: every {@link JUDGED} spinning waits, it stays on if it caught at least
 * half of the answers (on a quiet machine it catches nearly all of them, on a loaded one a few), else it stops.
 * Once stopped, it is tried again after {@link RETRY_FIRST} waits, then after twice as many each time the trial
 * fails, up to {@link RETRY_MOST}: a passing hiccup costs little, a lasting load costs a short trial now and then.
 * @module
 */

/** Iterations of one spin (override with TSCOPG_SYNC_SPIN, which the worker's poll reads too; 0 disables). */
const SPIN_LIMIT = Number(process.env.TSCOPG_SYNC_SPIN ?? 20_000);
/** Spinning waits per verdict. */
const JUDGED = 64;
/** Waits without spinning before the first trial after spinning stopped. */
const RETRY_FIRST = 64;
/** Most waits without spinning between trials. */
const RETRY_MOST = 4096;

/** The spin-or-sleep decision of one thread's blocking waits. */
export class SpinPolicy {
  private on = true;
  /** Waits without spinning since the last verdict, and how many to let pass before the next trial. */
  private idle = 0;
  private retryAfter = RETRY_FIRST;
  /** Spinning waits since the last verdict, and how many caught their answer. */
  private spins = 0;
  private caught = 0;

  /** Iterations to spin before the coming wait sleeps (0: sleep at once). */
  budget(): number {
    if (SPIN_LIMIT <= 0) return 0;
    if (this.on || ++this.idle >= this.retryAfter) return SPIN_LIMIT;
    return 0;
  }

  /** Records how a wait that spun ended: `caught`, its answer arrived while spinning. */
  spun(caught: boolean): void {
    if (caught) this.caught++;
    if (++this.spins < JUDGED) return;
    const pays = this.caught * 2 >= this.spins;
    // A trial that fails doubles the pause before the next one; a verdict while spinning starts it short.
    this.retryAfter = pays || this.on ? RETRY_FIRST : Math.min(RETRY_MOST, this.retryAfter * 2);
    this.on = pays;
    this.spins = this.caught = this.idle = 0;
  }
}

/** A cell nobody notifies: waiting on it is sleeping. */
const sleepCell = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

/** Blocks the thread for `ms` milliseconds (`Atomics.wait` on a cell nobody notifies). */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}
