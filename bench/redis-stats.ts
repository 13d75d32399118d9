import type { Redis } from "ioredis";

export interface RedisStats {
  /** Calls by command as the server counts them: Lua scripts' own redis.call()s included. */
  calls: Map<string, number>;
  usedMemory: number;
  /** used_memory less the server's overhead (client buffers, AOF buffer, replication backlog): the data. */
  datasetMemory: number;
}

/** INFO commandstats and used_memory; the observer's own INFO calls are left out. */
export async function redisStats(redis: Redis): Promise<RedisStats> {
  const info = await redis.info("commandstats");
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (match[1] !== "info") calls.set(match[1]!, Number(match[2]));
  const memory = await redis.info("memory");
  return { calls, usedMemory: Number(/^used_memory:(\d+)/m.exec(memory)![1]), datasetMemory: Number(/^used_memory_dataset:(\d+)/m.exec(memory)![1]) };
}

export interface CommandDelta {
  total: number;
  /** Script invocations (EVALSHA, EVAL): one round trip each, whatever they run inside. */
  scripts: number;
  /** The commands that grew most, "name×count". */
  top: string[];
}

export function commandsBetween(before: RedisStats, after: RedisStats): CommandDelta {
  const delta: Array<[string, number]> = [];
  for (const [name, calls] of after.calls) {
    const grown = calls - (before.calls.get(name) ?? 0);
    if (grown > 0) delta.push([name, grown]);
  }
  delta.sort((a, b) => b[1] - a[1]);
  const total = delta.reduce((sum, [, n]) => sum + n, 0);
  const scripts = delta.filter(([name]) => name.startsWith("eval")).reduce((sum, [, n]) => sum + n, 0);
  return { total, scripts, top: delta.slice(0, 6).map(([name, n]) => `${name}×${n}`) };
}
