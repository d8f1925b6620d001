import type { DestinationStream, pino } from 'pino';

type SonicBoom = ReturnType<typeof pino.destination>;

/** Lines held past this many characters are handed over at once, so a long synchronous stretch stays bounded. */
const PASS_AT_CHARS = 16_384;

/**
 * Holds the log lines of one tick and hands them to sonic-boom (pino's buffered destination, in buffer mode) as one
 * Buffer when the tick ends. Given each line on its own, sonic-boom measures the byte length of all it holds
 * unwritten on every line and encodes the string again once written: under load that cost more than pino spends
 * building the line. Lines stay in order; what is held here is handed over by flush(), flushSync() and end().
 */
export class TickLines implements DestinationStream {
  private lines: string[] = [];
  private chars = 0;
  private scheduled = false;

  constructor(readonly sonic: SonicBoom) {}

  write(line: string): void {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= PASS_AT_CHARS) this.pass();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.pass());
    }
  }

  /** Calls back once every line so far is written (pino's logger.flush(cb) comes here). */
  flush(done: (error?: Error) => void): void {
    this.pass();
    this.sonic.flush(done);
  }

  /** Writes every line so far before returning (on process exit). */
  flushSync(): void {
    this.pass();
    this.sonic.flushSync();
  }

  end(): void {
    this.pass();
    this.sonic.end();
  }

  private pass(): void {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const chunk = Buffer.from(this.lines.join(''));
    this.lines = [];
    this.chars = 0;
    this.sonic.write(chunk as unknown as string); // buffer mode: typed for strings, takes Buffers
  }
}
