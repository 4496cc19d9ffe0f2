/**
 * Restart policies (`--restart no|on-failure[:N]|always|unless-stopped`), parsed and checked as
 * docker does. The policy itself runs in the container's monitor (native/restart.c): no daemon
 * watches containers, the monitor starts the process again (a fresh clone of the same plan) with
 * docker's back-off, and tells the engine through the run file (runs.ts).
 */
import { InvalidArgumentError } from '../errors.js';

export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

/** docker's HostConfig.RestartPolicy. */
export interface RestartPolicy {
  Name: RestartPolicyName;
  /** on-failure only: restarts at most this many times; 0 is no limit. */
  MaximumRetryCount: number;
}

export const NO_RESTART: RestartPolicy = { Name: 'no', MaximumRetryCount: 0 };

const NAMES: readonly RestartPolicyName[] = ['no', 'on-failure', 'always', 'unless-stopped'];

export function parseRestartPolicy(value: string): RestartPolicy {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  const count = colon < 0 ? undefined : value.slice(colon + 1);
  if (!(NAMES as readonly string[]).includes(name)) {
    throw new InvalidArgumentError(`invalid restart policy ${JSON.stringify(value)}`, {
      hint: 'accepted: no, on-failure[:max-retries], always, unless-stopped',
    });
  }
  if (count === undefined) return { Name: name as RestartPolicyName, MaximumRetryCount: 0 };
  if (name !== 'on-failure') {
    throw new InvalidArgumentError(
      `invalid restart policy ${JSON.stringify(value)}: maximum retry count can only be used with 'on-failure'`,
    );
  }
  if (!/^\d+$/.test(count) || Number(count) > 2 ** 31 - 1) {
    throw new InvalidArgumentError(
      `invalid restart policy ${JSON.stringify(value)}: the maximum retry count must be a whole number, 0 or more`,
    );
  }
  return { Name: 'on-failure', MaximumRetryCount: Number(count) };
}

/** The number the helper's plan carries (native/helper.h enum restart_policy). */
export function restartPolicyCode(policy: RestartPolicy | undefined): number {
  return NAMES.indexOf(policy?.Name ?? 'no');
}
