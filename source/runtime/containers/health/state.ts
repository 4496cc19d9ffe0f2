/**
 * A container's health as its monitor keeps it (native/health.c writes the health file after each
 * check): docker's State.Health, laid over the record while the container has a health check.
 */
import fs from 'node:fs';
import type { ContainerRecord } from '../record.js';
import { healthCommand } from './config.js';

/** What health.c writes: docker's State.Health. */
export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

/** In the container's directory: the monitor's health state, and the exec plan of a check. */
export const HEALTH_FILE = 'health.json';
export const HEALTH_PLAN_FILE = 'health-plan';

const STATUSES = new Set(['starting', 'healthy', 'unhealthy']);

function isHealthState(value: unknown): value is HealthState {
  const state = value as Partial<HealthState> | null;
  return (
    typeof state === 'object' &&
    state !== null &&
    typeof state.Status === 'string' &&
    STATUSES.has(state.Status) &&
    typeof state.FailingStreak === 'number' &&
    Array.isArray(state.Log)
  );
}

/** The health file of a container directory, or undefined (none yet, or unreadable). */
export function readHealthFile(directory: string): HealthState | undefined {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(`${directory}/${HEALTH_FILE}`, 'utf8'));
    return isHealthState(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the record's container runs health checks. */
export function hasHealthcheck(record: ContainerRecord): boolean {
  return healthCommand(record.Config.Healthcheck, record.Config.Shell) !== undefined;
}

/** The record with State.Health (a copy), for a container with a health check that has started. */
export function withHealth(record: ContainerRecord, directory: string): ContainerRecord {
  if (!hasHealthcheck(record) || record.State.Status === 'created') return record;
  const health = readHealthFile(directory);
  if (!health) return record;
  return { ...record, State: { ...record.State, Health: health } };
}
