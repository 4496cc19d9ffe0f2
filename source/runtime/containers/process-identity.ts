/** Processes identified by pid and start time, so a recycled pid is never mistaken for ours. */
import fs from 'node:fs';
import { pidfdOpen, pidfdSendSignal } from '../sys/libc.js';
import type { ProcessIdentity } from './record.js';

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or undefined if gone. */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: parse after the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return undefined;
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : undefined;
}

/** The state letter of /proc/PID/stat (R, S, D, T, t, Z...), or undefined if there is no such process. */
export function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

export function identify(pid: number): ProcessIdentity | undefined {
  const startTime = processStartTime(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

export function isAlive(identity: ProcessIdentity | undefined): boolean {
  return identity !== undefined && identity.pid > 0 && processStartTime(identity.pid) === identity.startTime;
}

/**
 * Sends `signal` to the process if it is still the one identified. Goes through a pidfd: once it
 * is open, the pid cannot be recycled, and the identity is checked again through it.
 * Returns false when the process is gone (or was never ours).
 */
export function signalIdentity(identity: ProcessIdentity, signal: number): boolean {
  if (!isAlive(identity)) return false;
  let pidfd: number;
  try {
    pidfd = pidfdOpen(identity.pid);
  } catch {
    return false;
  }
  try {
    if (!isAlive(identity)) return false;
    pidfdSendSignal(pidfd, signal);
    return true;
  } catch {
    return false;
  } finally {
    fs.closeSync(pidfd);
  }
}

/**
 * Signals every process of a cgroup (a container's own: nothing else is in it), each through
 * its identity so a recycled pid is never hit. Returns how many were signalled.
 */
export async function signalCgroupProcesses(
  cgroup: { pids(): Promise<number[]> },
  signal: number,
): Promise<number> {
  let count = 0;
  for (const pid of await cgroup.pids().catch(() => [] as number[])) {
    const identity = identify(pid);
    if (identity && signalIdentity(identity, signal)) count += 1;
  }
  return count;
}
