/** The slice of a writable the destination writes to (`process.stdout` in the app). */
export interface LineSink {
  write(chunk: string): unknown;
}

/** Options of `BatchedDestination`. */
export interface BatchedDestinationOptions {
  /** Where the batches go. @default process.stdout */
  sink?: LineSink;
  /** A batch is written once it holds this many characters. @default 65536 */
  maxBatch?: number;
  /** …or this long after its first line, whichever comes first (ms). @default 50 */
  maxDelayMs?: number;
}

/**
 * A pino destination that collects lines and writes them in batches: one
 * write per 64 KiB or per 50 ms instead of one per line. pino's own
 * `pino.destination()` (SonicBoom) measures the UTF-8 length of its whole
 * pending buffer on every line, which cost ~5 µs per request log line here;
 * collecting into an array costs a push.
 *
 * `process.stdout` is synchronous on Linux for files, pipes and terminals, so
 * a batch is on its way when `flush` returns; `flush` runs at process exit,
 * so an exiting process loses no line (a SIGKILL loses at most `maxDelayMs`).
 */
export class BatchedDestination {
  private readonly sink: LineSink;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private lines: string[] = [];
  private size = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly onExit = () => this.flush();

  constructor(options: BatchedDestinationOptions = {}) {
    this.sink = options.sink ?? process.stdout;
    this.maxBatch = options.maxBatch ?? 65_536;
    this.maxDelayMs = options.maxDelayMs ?? 50;
    process.on('exit', this.onExit);
  }

  /** pino calls this with one serialized line (newline included). */
  write(line: string): void {
    if (this.closed) {
      // After close (the app is shutting down): no batching, nothing left behind.
      this.sink.write(line);
      return;
    }
    this.lines.push(line);
    this.size += line.length;
    if (this.size >= this.maxBatch) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.maxDelayMs);
      this.timer.unref();
    }
  }

  /** Writes what is pending now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.lines.length === 0) return;
    const batch = this.lines.length === 1 ? this.lines[0] : this.lines.join('');
    this.lines = [];
    this.size = 0;
    this.sink.write(batch);
  }

  /**
   * Flushes, and writes every later line at once: the exit hook is not needed
   * any more (a process that builds many apps, as a test runner does, would
   * otherwise collect one per app).
   */
  close(): void {
    this.flush();
    this.closed = true;
    process.off('exit', this.onExit);
  }
}
