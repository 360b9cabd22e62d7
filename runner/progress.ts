/**
 * Overall progress of a bench run with the time left. Each run (scenario ×
 * transport × trial) has a planned duration from its scenario; as runs finish,
 * the ratio of time actually taken to time planned corrects what is left, so
 * a slow machine's estimate grows after the first runs rather than at the end.
 * In a terminal the estimate is one line redrawn in place under the log; in a
 * CI log (no TTY) it is a plain line after each run.
 */

/** Milliseconds now; a fake one in tests. */
export type Clock = () => number;

/** Where progress goes: the log line printer and whether it is a terminal. */
export interface ProgressSink {
  write(text: string): void;
  tty: boolean;
}

/**
 * Weight of the prior guess (ratio 1) in the correction, in planned ms: the
 * first short run alone does not swing the estimate of a long plan.
 */
const PRIOR_MS = 5000;

/** Run-by-run progress against a plan of planned durations, in run order. */
export class Progress {
  private readonly planned: number[];
  private readonly actual: (number | undefined)[];
  private current = -1;
  private currentStart = 0;
  private status = '';

  constructor(
    planned: number[],
    private readonly clock: Clock,
    private readonly sink: ProgressSink,
  ) {
    this.planned = planned.map((ms) => Math.max(0, ms));
    this.actual = planned.map(() => undefined);
  }

  /** Actual over planned time of the finished runs, drawn toward 1 while little has run. */
  ratio(): number {
    let a = 0;
    let p = 0;
    this.actual.forEach((ms, i) => {
      if (ms === undefined) return;
      a += ms;
      p += this.planned[i]!;
    });
    return (a + PRIOR_MS) / (p + PRIOR_MS);
  }

  /** Estimated ms left: the unstarted runs at the corrected pace, plus what remains of the current one (never below zero). */
  leftMs(): number {
    const r = this.ratio();
    let left = 0;
    this.planned.forEach((ms, i) => {
      if (this.actual[i] !== undefined || i === this.current) return;
      left += ms * r;
    });
    if (this.current >= 0 && this.actual[this.current] === undefined) {
      left += Math.max(0, this.planned[this.current]! * r - (this.clock() - this.currentStart));
    }
    return left;
  }

  /** Fraction of the whole done, by time: elapsed so far over elapsed plus what is left. */
  fraction(): number {
    let done = 0;
    for (const ms of this.actual) done += ms ?? 0;
    if (this.current >= 0 && this.actual[this.current] === undefined) done += this.clock() - this.currentStart;
    const left = this.leftMs();
    return done + left > 0 ? done / (done + left) : 1;
  }

  /** The plan before anything ran: the whole estimate, as a plain line or the first status line. */
  begin(): void {
    if (this.sink.tty) this.redraw();
    else this.sink.write(`${this.line()}\n`);
  }

  /** Run `i` (index in the plan) starts now. */
  start(i: number): void {
    this.current = i;
    this.currentStart = this.clock();
    this.redraw();
  }

  /** Run `i` ended (done, errored or skipped); a skipped run passes 0 ms so it corrects nothing. */
  finish(i: number, skipped = false): void {
    const took = i === this.current ? this.clock() - this.currentStart : 0;
    this.actual[i] = skipped ? 0 : took;
    if (skipped) this.planned[i] = 0;
    if (i === this.current) this.current = -1;
    if (!this.sink.tty) this.sink.write(`${this.line()}\n`);
    else this.redraw();
  }

  /** A log line; in a terminal it goes above the status line, which is drawn again under it. */
  log(line: string): void {
    if (!this.sink.tty) {
      this.sink.write(`${line}\n`);
      return;
    }
    this.sink.write(`\r\x1b[K${line}\n`);
    this.redraw();
  }

  /** Redraws the status line (terminal only; call it on a timer so the countdown moves). */
  redraw(): void {
    if (!this.sink.tty) return;
    this.status = this.line();
    this.sink.write(`\r\x1b[K${this.status}`);
  }

  /** Clears the status line at the end of a run (terminal only). */
  end(): void {
    if (this.sink.tty && this.status) this.sink.write('\r\x1b[K');
    this.status = '';
  }

  /** The status in words: "progress: 3/40 runs, 12 % done, about 4 min 10 s left". */
  line(): string {
    const done = this.actual.filter((a) => a !== undefined).length;
    return `progress: ${done}/${this.planned.length} runs, ${Math.floor(this.fraction() * 100)} % done, about ${fmtLeft(this.leftMs())} left`;
  }
}

/** A duration left in words, rounded to what a reader can use. */
export function fmtLeft(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  const rest = s % 60;
  // Past ten minutes, the seconds are noise.
  if (m >= 10) return `${Math.round(s / 60)} min`;
  return rest === 0 ? `${m} min` : `${m} min ${rest} s`;
}
