/**
 * The exec plan of a health check, written at start for the monitor (native/health.c), which runs
 * it through the hardened exec path with the container's pid filled in: the plan names the
 * container's namespaces under /proc/0/, a path no process has, and the monitor puts the pid of
 * the current run there (a restart changes it).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { execPlanFromSpec, sessionKeyringName } from '../../init/from-spec.js';
import type { MonitorSettings } from '../../init/from-spec.js';
import { testPauseFromEnvironment } from '../../init/helper.js';
import { serializePlan } from '../../init/plan.js';
import type { OciSpec } from '../../spec/types.js';
import { PRIVATE_FILE_MODE } from '../../state-permissions.js';
import type { EngineCore } from '../core.js';
import { namespacesToJoin } from '../exec.js';
import type { ContainerRecord } from '../record.js';
import { healthCommand, healthTimings } from './config.js';
import { HEALTH_FILE, HEALTH_PLAN_FILE } from './state.js';

/** Writes the check's plan; returns the monitor's settings (undefined: no health check). */
export async function prepareHealthcheck(
  core: EngineCore,
  record: ContainerRecord,
  spec: OciSpec,
): Promise<MonitorSettings['health']> {
  const directory = core.containers.dir(record.Id);
  await fsp.rm(path.join(directory, HEALTH_FILE), { force: true });
  const command = healthCommand(record.Config.Healthcheck, record.Config.Shell);
  if (!command || !record.Config.Healthcheck) {
    await fsp.rm(path.join(directory, HEALTH_PLAN_FILE), { force: true });
    return undefined;
  }
  const proc = spec.process!;
  const plan = execPlanFromSpec(
    { ...spec, process: { ...proc, args: command, terminal: false } },
    {
      namespaces: namespacesToJoin(spec, 0),
      sessionKeyring: sessionKeyringName(record.Id),
      cgroupProcs: core.cgroup(record).procsFiles(),
      detach: false,
      interactive: false,
    },
  );
  const testPause = testPauseFromEnvironment();
  await fsp.writeFile(
    path.join(directory, HEALTH_PLAN_FILE),
    serializePlan(testPause ? { ...plan, testPause } : plan),
    {
      mode: PRIVATE_FILE_MODE,
    },
  );
  return {
    ...healthTimings(record.Config.Healthcheck),
    planFile: HEALTH_PLAN_FILE,
    file: HEALTH_FILE,
    program: command[0]!,
  };
}
