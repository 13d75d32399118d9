/** One line of the benchmark table: a figure of this project, the baseline measured in the same run, and the target. */
export interface BenchRow {
  benchmark: string;
  figure: string;
  value: number;
  unit: string;
  /** The baseline's value in the same unit (null where the figure has none). */
  baseline: number | null;
  baselineName: string;
  /** value / baseline. */
  ratio: number | null;
  target: string;
  /** null: informational, no target. */
  pass: boolean | null;
  note?: string;
}

/** The prefix of the JSON line each benchmark prints per row, which `npm run bench` collects. */
export const ROW_PREFIX = "BENCH_ROW ";

export function row(fields: Omit<BenchRow, "ratio"> & { ratio?: number | null }): BenchRow {
  const ratio = fields.ratio !== undefined ? fields.ratio : fields.baseline === null || fields.baseline === 0 ? null : fields.value / fields.baseline;
  return { ...fields, ratio };
}

export function emitRow(benchRow: BenchRow): void {
  console.log(ROW_PREFIX + JSON.stringify(benchRow));
}

const number = (value: number | null): string => {
  if (value === null || !Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  return abs >= 1000 ? Math.round(value).toLocaleString("en-US") : abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : abs >= 1 ? value.toFixed(2) : value.toFixed(3);
};

/** A Markdown table (it reads as a table in a terminal too). */
export function formatTable(rows: readonly BenchRow[]): string {
  const lines = [
    "| benchmark | figure | value | baseline | ratio | target | pass |",
    "| --- | --- | --: | --: | --: | --- | --- |",
    ...rows.map((r) =>
      [
        r.benchmark,
        r.figure,
        `${number(r.value)} ${r.unit}`,
        r.baseline === null ? r.baselineName || "—" : `${number(r.baseline)} (${r.baselineName})`,
        r.ratio === null ? "—" : `${number(r.ratio)}×`,
        r.target,
        r.pass === null ? "—" : r.pass ? "pass" : "**FAIL**",
      ].join(" | "),
    ).map((line) => `| ${line} |`),
  ];
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.benchmark}, ${r.figure}: ${r.note}`);
  return [...lines, ...(notes.length > 0 ? ["", ...notes] : [])].join("\n");
}
