/**
 * Starting a created container: its user resolved from the image's files, /etc files written,
 * the OCI spec built and validated, the cgroup made, and the native helper started with the plan.
 * The helper leaves the process waiting at the exec fifo; the caller releases it (engine.start).
 */
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { removeContainerCgroup } from '../cgroups/remove.js';
import { GantryError } from '../errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMonitor, type MonitorHandle } from '../init/helper.js';
import { planFromSpec, sessionKeyringName } from '../init/from-spec.js';
import type { HelperPlan } from '../init/plan.js';
import type { OciSpec } from '../spec/types.js';
import { validateSpec } from '../spec/validate.js';
import { PRIVATE_FILE_MODE } from '../state-permissions.js';
import { trace } from '../trace.js';
import { FILES, packageRoot, type EngineCore } from './core.js';
import { writeEtcFiles } from './etc-files.js';
import { readLayeredFile } from './layered-files.js';
import { logConfigOf, logRotation } from './log-config.js';
import { networkKind } from './network-options.js';
import {
  applyEgressClass,
  cgroupResources,
  clearNetworking,
  recordNetworking,
  reserveRequest,
  sharedNetwork,
} from './networking.js';
import { sharedNamespacePaths } from './shared-namespaces.js';
import { identify, signalCgroupProcesses } from './process-identity.js';
import { ZERO_TIME, type ContainerRecord } from './record.js';
import { RECORD_ANNOTATION, recordAnnotation } from './recovery.js';
import { buildSpec } from './spec-builder.js';
import { resolveUser } from './user.js';
import { applyUserNamespace, planMappedRoot } from './userns.js';
import { MONITOR_PID_FILE } from './systemd-unit.js';
import { restartPolicyCode } from './restart-policy.js';
import { clearRuns, RUN_FILE, STOP_FILE } from './runs.js';
import { prepareHealthcheck } from './health/plan.js';
import { prepareInit } from './init-process.js';

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

export function overlayData(core: EngineCore, record: ContainerRecord): { data: string; cwd: string } {
  const dir = core.containers.dir(record.Id);
  const cwd = core.layout.layers;
  // Relative lowerdirs keep the mount data under a page for deep images.
  const lower = [...record.LayerDirs]
    .reverse()
    .map((layer) => (layer.startsWith(`${cwd}/`) ? path.relative(cwd, layer) : layer));
  let data = `lowerdir=${lower.join(':')},upperdir=${dir}/upper,workdir=${dir}/work`;
  if (fs.existsSync('/sys/module/overlay/parameters/index')) data += ',index=off';
  // As docker's and podman's overlay drivers mount it: every file of the root carries the label.
  if (record.MountLabel) data += `,context="${record.MountLabel}"`;
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
  // A start by hand: the runs of the last one (and a stop asked of it) are over.
  await clearRuns(core, record.Id);
  record.RestartCount = 0;
  const user = resolveRecordUser(core, record);
  const kind = networkKind(record.HostConfig.NetworkMode);
  const network = kind === 'bridge' ? await core.network() : undefined;
  let handle: MonitorHandle | undefined;
  const cgroup = core.cgroup(record);
  try {
    const shared = kind === 'container' ? await sharedNetwork(core, record) : undefined;
    const joined = await sharedNamespacePaths(core, record);
    const reserved = network ? await network.reserve(reserveRequest(core, record)) : undefined;
    const etcFiles =
      shared?.etcFiles ??
      (await writeEtcFiles(dir, record.Config.Hostname || 'localhost', record.HostConfig.NetworkMode, {
        ...(record.HostConfig.Dns ? { dns: record.HostConfig.Dns } : {}),
        ...(record.HostConfig.DnsSearch ? { dnsSearch: record.HostConfig.DnsSearch } : {}),
        ...(record.HostConfig.DnsOptions ? { dnsOptions: record.HostConfig.DnsOptions } : {}),
        ...(record.HostConfig.ExtraHosts ? { extraHosts: record.HostConfig.ExtraHosts } : {}),
        ...(reserved ? { hosts: reserved.hosts } : {}),
      }));
    trace('launch: etc files');
    const spec: OciSpec = applyUserNamespace(
      buildSpec({
        record: shared ? { ...record, Config: { ...record.Config, Hostname: shared.hostname } } : record,
        rootfs: path.join(dir, 'merged'),
        user,
        etcFiles,
        ...(record.HostConfig.Init ? { initBinary: await prepareInit(core, record) } : {}),
        ...(options.consoleSize ? { consoleSize: options.consoleSize } : {}),
        ...(shared ? { networkNamespacePath: shared.namespacePath } : {}),
        ...joined,
      }),
      record,
    );
    validateSpec(spec, { bundle: dir, source: `container ${record.Name}` });
    // The record as it is now, for rebuilding it should state.json be lost (see recovery.ts).
    spec.annotations = { ...spec.annotations, [RECORD_ANNOTATION]: recordAnnotation(record) };
    await fsp.writeFile(path.join(dir, FILES.spec), `${JSON.stringify(spec, null, 2)}\n`, {
      mode: PRIVATE_FILE_MODE,
    });
    // A config.json from before the file was made private keeps its mode through writeFile.
    await fsp.chmod(path.join(dir, FILES.spec), PRIVATE_FILE_MODE);
    trace('launch: spec written');
    if (await cgroup.exists()) await cgroup.destroy();
    await cgroup.create(cgroupResources(record));
    trace('launch: cgroup created');
    const logRotationSettings = logRotation(logConfigOf(record.HostConfig));
    const health = await prepareHealthcheck(core, record, spec);
    const plan: HelperPlan = planFromSpec(spec, {
      bundle: dir,
      stateDir: dir,
      cgroup,
      // Never the caller's session keyring (its keys are the user's, not the container's): as runc.
      sessionKeyring: sessionKeyringName(record.Id),
      rootOverlay: overlayData(core, record),
      monitor: {
        ...(logRotationSettings ? { logPath: FILES.log, logMax: logRotationSettings } : {}),
        attachPath: FILES.attach,
        fifoPath: FILES.fifo,
        exitFile: FILES.exit,
        eventsFile: FILES.events,
        exitCommand: exitCommand(core, record),
        ...(restartPolicyCode(record.HostConfig.RestartPolicy) > 0
          ? {
              restart: {
                policy: restartPolicyCode(record.HostConfig.RestartPolicy),
                maxRetries: record.HostConfig.RestartPolicy?.MaximumRetryCount ?? 0,
                runFile: RUN_FILE,
                stopFile: STOP_FILE,
              },
            }
          : {}),
        ...(health ? { health } : {}),
        openStdin: record.Config.OpenStdin,
        stdinOnce: record.Config.StdinOnce,
      },
    });
    // docker creates a missing working directory.
    if (record.Config.WorkingDir) plan.mkdirs.push({ path: record.Config.WorkingDir, mode: 0o755 });
    await planMappedRoot(core, record, plan);
    plan.holdPorts = (reserved?.entry.ports ?? []).map((port) => ({
      protocol: port.protocol,
      address: port.hostIp || '0.0.0.0',
      port: port.hostPort,
    }));
    handle = await startMonitor(plan, { detached: true });
    trace('launch: monitor created');
    if (network) {
      const entry = await network.attach(record.Id, handle.containerPid);
      recordNetworking(record, entry, await network.store.listConfigs());
      await applyEgressClass(record, handle.containerPid);
    }
    record.InitProcess = identify(handle.containerPid) ?? { pid: handle.containerPid, startTime: 0 };
    record.Monitor = identify(handle.monitorPid) ?? { pid: handle.monitorPid, startTime: 0 };
    // The PIDFile of a unit from `generate systemd`: systemd tracks the monitor, which outlives
    // the container's restarts.
    await fsp.writeFile(path.join(dir, MONITOR_PID_FILE), `${handle.monitorPid}\n`);
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
    if (handle) {
      // Set up but not released from the fifo: it goes, with what it holds, before the network.
      await signalCgroupProcesses(cgroup, 9).catch(() => undefined);
      await waitForMonitor(handle);
    }
    await network?.release(record.Id).catch(() => undefined);
    clearNetworking(record);
    await removeContainerCgroup(cgroup).catch(() => undefined);
    // The helper made the fifo; a failed setup must not look like an interrupted start.
    await fsp.rm(path.join(dir, FILES.fifo), { force: true });
    record.State.Error = (error as Error).message;
    if (error instanceof GantryError && error.exitCode !== 125) record.State.ExitCode = error.exitCode;
    await core.containers.save(record);
    throw error;
  }
}

/** Waits (a few seconds at most) for a monitor whose container was just killed to end. */
async function waitForMonitor(handle: MonitorHandle): Promise<void> {
  if (handle.child.exitCode !== null || handle.child.signalCode !== null) return;
  await Promise.race([once(handle.child, 'exit'), sleep(5000)]);
}
