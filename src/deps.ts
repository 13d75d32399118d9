import type { DunningPolicy } from "./billing/dunning-policy.ts";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Db } from "./db/connect.ts";
import type { Logger } from "./log.ts";
import type { OenClient } from "./oen/client.ts";
import type { Queues } from "./queues/queues.ts";

/** What the services and workers run on; built once per process by `createService`. */
export interface Deps {
  config: Config;
  db: Db;
  queues: Queues;
  oen: OenClient;
  clock: Clock;
  logger: Logger;
  dunning: DunningPolicy;
}
