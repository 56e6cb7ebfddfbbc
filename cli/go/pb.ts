/**
 * The progress bar etcdctl 3.4 prints in `check perf` and `check datascale`: gopkg.in/cheggaaa/pb.v1
 * with `Format("Bom !")` and its defaults (counters, bar, percent, time left, final time; redrawn
 * every 200 ms as `\r<line>`, a newline after the last one). Without a terminal (width 0) there is
 * no bar and no padding: `\r 3 / 60    5.00% 00m57s`; on a terminal of width w the line is
 * `\r 3 / 60 Bom      ...!   5.00% 00m57s` padded to w columns. The finished line shows the time
 * spent in Go's Duration format (` 60 / 60  100.00% 1m0s`).
 */
import { goDurationString } from "./duration.ts";

/** pb.v1's DEFAULT_REFRESH_RATE, ms. */
export const PB_REFRESH_MS = 200;

const [BAR_START, CURRENT, CURRENT_N, EMPTY, BAR_END] = ["B", "o", "m", " ", "!"];
const SECOND_MS = 1000;

/** pb.v1's formatDuration for the time left: `[<d>d][<h>h]MMmSSs`. */
function formatTimeLeft(ms: number): string {
  let s = Math.floor(ms / SECOND_MS);
  let out = "";
  if (s > 86400) {
    out += `${Math.floor(s / 86400)}d`;
    s %= 86400;
  }
  if (s > 3600) {
    out += `${Math.floor(s / 3600)}h`;
    s %= 3600;
  }
  const p = (n: number) => String(n).padStart(2, "0");
  return `${out}${p(Math.floor(s / 60))}m${p(s % 60)}s`;
}

/** Where and how the bar draws. */
export interface ProgressBarIo {
  /** Writes text to stdout as it is (no newline added). */
  write(text: string): void;
  /** Terminal columns of stdout; 0 when stdout is not a terminal. */
  width(): number;
  /** Monotonic clock, ms (default performance.now). */
  now?(): number;
}

/** One pb.v1 bar counting to `total`. */
export class GoProgressBar {
  private current = 0;
  private previous = 0;
  private startMs = 0;
  private changeMs = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private finished = false;
  private readonly now: () => number;

  constructor(
    private readonly total: number,
    private readonly io: ProgressBarIo,
  ) {
    this.now = io.now ?? (() => performance.now());
  }

  /** pb's Start: draws at once, then every {@link PB_REFRESH_MS}. */
  start(): void {
    this.startMs = this.now();
    this.changeMs = this.startMs;
    this.update();
    this.timer = setInterval(() => this.update(), PB_REFRESH_MS);
  }

  /** pb's Add. */
  add(n: number): void {
    this.current += n;
  }

  /** pb's Finish: the last line (with the time spent) and a newline; later calls do nothing. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.timer);
    this.io.write(`\r${this.line()}\n`);
  }

  private update(): void {
    if (this.finished) return;
    if (this.previous !== this.current) {
      this.changeMs = this.now();
      this.previous = this.current;
    }
    this.io.write(`\r${this.line()}`);
  }

  /** pb's write(): the line for the current state. */
  line(): string {
    const width = this.io.width();
    const now = this.now();
    const percent = this.total > 0 ? this.current / (this.total / 100) : this.current / 100;
    const percentBox = ` ${percent.toFixed(2).padStart(6)}%`;
    const countersBox = ` ${this.current} / ${this.total} `;
    let timeBox = "";
    if (this.finished) {
      timeBox = ` ${goDurationString(BigInt(Math.floor((now - this.startMs) / SECOND_MS)) * 1_000_000_000n)}`;
    } else if (this.current > 0) {
      const perEntryMs = (this.changeMs - this.startMs) / this.current;
      const leftMs = (this.total - this.current) * perEntryMs - (now - this.changeMs);
      if (Math.floor(leftMs / SECOND_MS) > 0) timeBox = ` ${formatTimeLeft(leftMs)}`;
    }
    let bar = "";
    const size = width - (countersBox.length + BAR_START.length + BAR_END.length + percentBox.length + timeBox.length);
    if (size > 0 && this.total > 0) {
      const cur = Math.min(size, Math.ceil((this.current / this.total) * size));
      const empty = Math.max(0, size - cur);
      bar = BAR_START;
      if (empty <= 0) bar += CURRENT.repeat(cur);
      else if (cur > 0) bar += CURRENT.repeat(Math.max(0, cur - 1)) + CURRENT_N;
      bar += EMPTY.repeat(empty) + BAR_END;
    }
    const out = countersBox + bar + percentBox + timeBox;
    return out.length < width ? out + " ".repeat(width - out.length) : out;
  }
}
