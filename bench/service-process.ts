// A benchmark's child: the real service (startService) with the roles of ROLES, configured by
// the environment like `npm start`. Counts its completed charge jobs, queries and commands for probes.
import { loadConfig } from "../src/config.ts";
import { silentLogger } from "../src/log.ts";
import { QUEUE_NAMES } from "../src/queues/queue-names.ts";
import { startService } from "../src/service.ts";
import { installIoCounters } from "./io-counters.ts";
import { serveProbes } from "./probe.ts";

const io = installIoCounters();
const service = await startService({ config: loadConfig(process.env), logger: silentLogger });
let completed = 0;
const charges = service.workers.find((worker) => worker.name === QUEUE_NAMES.charges);
charges?.on("completed", () => completed++);
serveProbes({ url: service.url }, () => ({ io: io(), completed }), () => service.close());
