import type { FastifyInstance } from "fastify";

/** One scrape of /metrics, read as Prometheus would: the value of a series, by name and labels. */
export interface Scrape {
  text: string;
  /** The series' value; undefined when the series is absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

export async function scrapeMetrics(app: FastifyInstance, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await app.inject({ method: "GET", url: "/metrics", headers });
  if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}: ${response.body}`);
  const samples = response.body
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match === null) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
  return {
    text: response.body,
    value(name, labels = {}) {
      const wanted = Object.entries(labels);
      const sample = samples.find((s) => s.name === name && Object.keys(s.labels).length === wanted.length && wanted.every(([k, v]) => s.labels[k] === v));
      return sample?.value;
    },
  };
}
