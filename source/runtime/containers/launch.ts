/**
 * Starting a created container: its user resolved from the image's files, /etc files written,
 * the OCI spec built and validated, the cgroup made, and the native helper started with the plan.
 * The helper leaves the process waiting at the exec fifo; the caller releases it (engine.start).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { removeContainerCgroup } from '../cgroups/remove.js';
import { GantryError } from '../errors.js';
import { startMonitor } from '../init/helper.js';
import { planFromSpec } from '../init/from-spec.js';
import type { HelperPlan } from '../init/plan.js';
import type { OciSpec } from '../spec/types.js';
import { validateSpec } from '../spec/validate.js';
import { PRIVATE_FILE_MODE } from '../state-permissions.js';
import { trace } from '../trace.js';
import { FILES, packageRoot, type EngineCore } from './core.js';
import { writeEtcFiles } from './etc-files.js';
import { readLayeredFile } from './layered-files.js';
import { logConfigOf, logRotation } from './log-config.js';
import { identify } from './process-identity.js';
import { ZERO_TIME, type ContainerRecord } from './record.js';
import { RECORD_ANNOTATION, recordAnnotation } from './recovery.js';
import { buildSpec } from './spec-builder.js';
import { resolveUser } from './user.js';

export interface LaunchOptions {
  consoleSize?: { rows: number; cols: number };
}

/** The container's layers, top first: its writable layer, then the image's. */
function layerStack(core: EngineCore, record: ContainerRecord): string[] {
  return [path.join(core.containers.dir(record.Id), 'upper'), ...[...record.LayerDirs].reverse()];
}

/** The container's user (Config.User) resolved against its own /etc/passwd and /etc/group. */
export function resolveRecordUser(core: EngineCore, record: ContainerRecord) {
  const layers = layerStack(core, record);
  return resolveUser(
    record.Config.User,
    readLayeredFile(layers, '/etc/passwd'),
    readLayeredFile(layers, '/etc/group'),
  );
}

function overlayData(core: EngineCore, record: ContainerRecord): { data: string; cwd: string } {
  const dir = core.containers.dir(record.Id);
  const cwd = core.layout.layers;
  // Relative lowerdirs keep the mount data under a page for deep images.
  const lower = [...record.LayerDirs]
    .reverse()
    .map((layer) => (layer.startsWith(`${cwd}/`) ? path.relative(cwd, layer) : layer));
  let data = `lowerdir=${lower.join(':')},upperdir=${dir}/upper,workdir=${dir}/work`;
  if (fs.existsSync('/sys/module/overlay/parameters/index')) data += ',index=off';
  if (data.length > 4000) {
    throw new GantryError(`the image has too many layers (${lower.length}) for one overlay mount`);
  }
  return { data, cwd };
}

/** What the monitor runs when the container ends, to record the end at once. */
export function exitCommand(core: EngineCore, record: ContainerRecord): string[] {
  return [
    process.execPath,
    path.join(packageRoot(), 'bin', 'gantry.js'),
    '--root',
    core.layout.root,
    '--cgroup-parent',
    core.options.cgroupParent,
    'container',
    'cleanup',
    record.Id,
  ];
}

/** Sets everything up and starts the monitor; the process waits at the exec fifo (lock held). */
export async function launch(
  core: EngineCore,
  record: ContainerRecord,
  options: LaunchOptions,
): Promise<void> {
  const dir = core.containers.dir(record.Id);
  for (const name of [FILES.exit, FILES.fifo, FILES.attach])
    await fsp.rm(path.join(dir, name), { force: true });
  const user = resolveRecordUser(core, record);
  const etcFiles = await writeEtcFiles(
    dir,
    record.Config.Hostname || 'localhost',
    record.HostConfig.NetworkMode,
  );
  trace('launch: etc files');
  const spec: OciSpec = buildSpec({
    record,
    rootfs: path.join(dir, 'merged'),
    user,
    etcFiles,
    ...(options.consoleSize ? { consoleSize: options.consoleSize } : {}),
  });
  validateSpec(spec, { bundle: dir, source: `container ${record.Name}` });
  // The record as it is now, for rebuilding it should state.json be lost (see recovery.ts).
  spec.annotations = { ...spec.annotations, [RECORD_ANNOTATION]: recordAnnotation(record) };
  await fsp.writeFile(path.join(dir, FILES.spec), `${JSON.stringify(spec, null, 2)}\n`, {
    mode: PRIVATE_FILE_MODE,
  });
  // A config.json from before the file was made private keeps its mode through writeFile.
  await fsp.chmod(path.join(dir, FILES.spec), PRIVATE_FILE_MODE);
  trace('launch: spec written');
  const cgroup = core.cgroup(record);
  if (await cgroup.exists()) await cgroup.destroy();
  await cgroup.create(record.HostConfig.Resources);
  trace('launch: cgroup created');
  const logRotationSettings = logRotation(logConfigOf(record.HostConfig));
  const plan: HelperPlan = planFromSpec(spec, {
    bundle: dir,
    stateDir: dir,
    cgroup,
    rootOverlay: overlayData(core, record),
    monitor: {
      ...(logRotationSettings ? { logPath: FILES.log, logMax: logRotationSettings } : {}),
      attachPath: FILES.attach,
      fifoPath: FILES.fifo,
      exitFile: FILES.exit,
      eventsFile: FILES.events,
      exitCommand: exitCommand(core, record),
      openStdin: record.Config.OpenStdin,
      stdinOnce: record.Config.StdinOnce,
    },
  });
  // docker creates a missing working directory.
  if (record.Config.WorkingDir) plan.mkdirs.push({ path: record.Config.WorkingDir, mode: 0o755 });
  try {
    const handle = await startMonitor(plan, { detached: true });
    trace('launch: monitor created');
    record.InitProcess = identify(handle.containerPid) ?? { pid: handle.containerPid, startTime: 0 };
    record.Monitor = identify(handle.monitorPid) ?? { pid: handle.monitorPid, startTime: 0 };
    record.State = {
      ...record.State,
      Status: 'running',
      Pid: handle.containerPid,
      ExitCode: 0,
      OOMKilled: false,
      Error: '',
      StartedAt: new Date().toISOString(),
      FinishedAt: ZERO_TIME,
    };
    await core.containers.save(record);
    trace('launch: saved');
  } catch (error) {
    await removeContainerCgroup(cgroup).catch(() => undefined);
    // The helper made the fifo; a failed setup must not look like an interrupted start.
    await fsp.rm(path.join(dir, FILES.fifo), { force: true });
    record.State.Error = (error as Error).message;
    if (error instanceof GantryError && error.exitCode !== 125) record.State.ExitCode = error.exitCode;
    await core.containers.save(record);
    throw error;
  }
}
