/** One column of a CLI table: its header (no spaces, so `awk` can split lines) and a row's cell. */
export interface Column<Row> {
  readonly header: string;
  readonly cell: (row: Row) => string | number;
}

/**
 * Rows as an aligned plain-text table, as `docker ps` prints one: a header line, then one line per row,
 * columns two spaces apart, numbers right-aligned, no quotes and no index column.
 */
export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((column) => column.cell(row)));
  const numeric = columns.map((_, i) => cells.length > 0 && cells.every((line) => typeof line[i] === 'number'));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => String(line[i]).length)));
  const format = (texts: string[]): string => texts.map((text, i) => (numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!))).join('  ').trimEnd();
  return [format(columns.map((column) => column.header)), ...cells.map((line) => format(line.map(String)))].join('\n');
}
