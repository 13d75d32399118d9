/** The merchant and API token of the benchmarks' Oen simulator (a `sim-` token: development defaults allowed). */
export const SIMULATOR_CREDENTIALS = { merchantId: "bench", apiToken: "sim-bench-token" } as const;
