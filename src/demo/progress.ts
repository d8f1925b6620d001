/** One live status line on a terminal (redrawn in place), plain lines otherwise. */
export class ProgressLine {
  private last = 0;
  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  update(text: string, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    if (this.stream.isTTY) this.stream.write(`\r\x1b[2K${text}`);
    else if (force) this.stream.write(`${text}\n`);
  }

  done(text: string): void {
    this.update(text, true);
    if (this.stream.isTTY) this.stream.write('\n');
  }
}

export function table(rows: Record<string, string | number>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => String(r[c]))))].join('\n');
}
