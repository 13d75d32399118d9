import { Redis } from "ioredis";
import pg from "pg";

export interface IoCounts {
  /** Queries this process sent to Postgres (BEGIN and COMMIT included). */
  pgQueries: number;
  /** Commands this process wrote to Redis (one per EVALSHA, whatever the script runs; MULTI and EXEC included). */
  redisCommands: number;
}

/**
 * Counts this process' Postgres queries and Redis commands from now on, at the
 * client libraries every part of the service goes through (Kysely's pg pool,
 * BullMQ's ioredis connections). Install it before anything connects.
 */
export function installIoCounters(): () => IoCounts {
  const counts: IoCounts = { pgQueries: 0, redisCommands: 0 };
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    counts.pgQueries++;
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  const sendCommand = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<typeof sendCommand>) {
    counts.redisCommands++;
    return sendCommand.apply(this, args);
  };
  return () => ({ ...counts });
}
