/** Rows as aligned columns, the header first; cells are shown as strings (null and undefined as "-"). */
export function formatTable(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<unknown>>): string[] {
  const text = [header, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? "-" : String(cell))))];
  const widths = header.map((_, column) => Math.max(...text.map((row) => (row[column] ?? "").length)));
  return text.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ").trimEnd());
}
