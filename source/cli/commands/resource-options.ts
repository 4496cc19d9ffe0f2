/** Resource-limit flags (docker's names), shared by run, create and update. */
import type { Resources } from '../../runtime/cgroups/types.js';
import type { OptionSpec, OptionValues } from '../args.js';

export const RESOURCE_OPTIONS: OptionSpec[] = [];

export function resourcesFromOptions(_options: OptionValues): Resources {
  return {};
}
