import { createDunningPolicy, type DunningPolicy } from "../billing/dunning-policy.ts";
import type { Config } from "../config.ts";
import { DECLINE_CODES } from "../oen/types.ts";

/** The dunning policy the configuration describes (the defaults, overridden by DUNNING_* settings). */
export function dunningPolicyFrom(config: Pick<Config, "dunning">): DunningPolicy {
  const { hardCodes, ...rest } = config.dunning;
  return createDunningPolicy({ ...rest, hardCodes, softCodes: DECLINE_CODES.filter((code) => !hardCodes.includes(code)) });
}
