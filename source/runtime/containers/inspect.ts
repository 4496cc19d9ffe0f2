/** docker-shaped inspect output for a container record (docker's ContainerJSON field names). */
import path from 'node:path';
import type { Resources } from '../cgroups/types.js';
import { logConfigOf } from './log-config.js';
import type { ContainerRecord } from './record.js';
import { appArmorProfile, effectiveSecurityOptions } from './security-options.js';
import { withHealth } from './health/state.js';

function resourceFields(resources: Resources): Record<string, unknown> {
  const period = resources.cpuPeriod ?? 0;
  const quota = resources.cpuQuota ?? 0;
  const throttles = (list: Resources['blkioDeviceReadBps']) =>
    (list ?? []).map((d) => ({ Path: d.path, Rate: d.rate }));
  return {
    Memory: resources.memory ?? 0,
    MemoryReservation: resources.memoryReservation ?? 0,
    MemorySwap: resources.memorySwap ?? 0,
    MemoryHigh: resources.memoryHigh ?? 0,
    KernelMemory: resources.kernelMemory ?? 0,
    OomKillDisable: resources.oomKillDisable ?? false,
    // docker shows null when it was not given.
    MemorySwappiness: resources.memorySwappiness ?? null,
    CpuShares: resources.cpuShares ?? 0,
    CpuPeriod: period,
    CpuQuota: quota,
    NanoCpus: period > 0 && quota > 0 ? Math.round((quota / period) * 1e9) : 0,
    CpusetCpus: resources.cpusetCpus ?? '',
    CpusetMems: resources.cpusetMems ?? '',
    BlkioWeight: resources.blkioWeight ?? 0,
    BlkioWeightDevice: (resources.blkioWeightDevice ?? []).map((d) => ({ Path: d.path, Weight: d.weight })),
    BlkioDeviceReadBps: throttles(resources.blkioDeviceReadBps),
    BlkioDeviceWriteBps: throttles(resources.blkioDeviceWriteBps),
    BlkioDeviceReadIOps: throttles(resources.blkioDeviceReadIOps),
    BlkioDeviceWriteIOps: throttles(resources.blkioDeviceWriteIOps),
    PidsLimit: resources.pidsLimit ?? 0,
    NetClsClassid: resources.netClsClassid ?? 0,
    NetPrioIfpriomap: resources.netPrioIfpriomap ?? {},
  };
}

export function inspectContainer(record: ContainerRecord, directory: string): Record<string, unknown> {
  const args = [...record.Config.Entrypoint, ...record.Config.Cmd];
  const state = withHealth(record, directory).State;
  return {
    Id: record.Id,
    Created: record.Created,
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      // docker: "restarting" while a restart waits out its delay, with Running still true.
      Status: state.Restarting ? 'restarting' : state.Status,
      Running: state.Status === 'running' || state.Status === 'paused',
      Paused: state.Status === 'paused',
      Restarting: state.Restarting === true,
      OOMKilled: state.OOMKilled,
      Dead: false,
      Pid: state.Pid,
      ExitCode: state.ExitCode,
      Error: state.Error,
      StartedAt: state.StartedAt,
      FinishedAt: state.FinishedAt,
      ...(state.Health ? { Health: state.Health } : {}),
    },
    Image: record.Image,
    ResolvConfPath: path.join(directory, 'resolv.conf'),
    HostnamePath: path.join(directory, 'hostname'),
    HostsPath: path.join(directory, 'hosts'),
    LogPath: logConfigOf(record.HostConfig).Type === 'none' ? '' : path.join(directory, 'ctr.log'),
    Name: `/${record.Name}`,
    RestartCount: record.RestartCount,
    Driver: 'overlay',
    Platform: 'linux',
    AppArmorProfile: appArmorProfile(record.HostConfig) ?? '',
    MountLabel: record.MountLabel ?? '',
    ProcessLabel: record.ProcessLabel ?? '',
    HostConfig: {
      Binds: record.HostConfig.Binds,
      ...(record.HostConfig.Mounts ? { Mounts: record.HostConfig.Mounts } : {}),
      ...(record.HostConfig.Tmpfs ? { Tmpfs: record.HostConfig.Tmpfs } : {}),
      VolumesFrom: record.HostConfig.VolumesFrom ?? null,
      NetworkMode: record.HostConfig.NetworkMode,
      // docker's values: "private" (its default) or "host"/"container:<id>"; "" when not shared.
      IpcMode: record.HostConfig.IpcMode ?? 'private',
      PidMode: record.HostConfig.PidMode ?? '',
      UTSMode: record.HostConfig.UTSMode ?? '',
      // docker: null unless --init was given.
      Init: record.HostConfig.Init ?? null,
      UsernsMode: record.HostConfig.UsernsMode ?? '',
      ...(record.HostConfig.IDMappings ? { IDMappings: record.HostConfig.IDMappings } : {}),
      PortBindings: record.HostConfig.PortBindings ?? {},
      PublishAllPorts: record.HostConfig.PublishAllPorts ?? false,
      Dns: record.HostConfig.Dns ?? [],
      DnsSearch: record.HostConfig.DnsSearch ?? [],
      DnsOptions: record.HostConfig.DnsOptions ?? [],
      ExtraHosts: record.HostConfig.ExtraHosts ?? null,
      AutoRemove: record.HostConfig.AutoRemove,
      RestartPolicy: record.HostConfig.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 },
      ReadonlyRootfs: record.HostConfig.ReadonlyRootfs,
      Privileged: record.HostConfig.Privileged,
      CapAdd: record.HostConfig.CapAdd,
      CapDrop: record.HostConfig.CapDrop,
      SecurityOpt: effectiveSecurityOptions(record.HostConfig),
      CgroupParent: record.HostConfig.CgroupParent,
      Ulimits: record.HostConfig.Ulimits,
      ...resourceFields(record.HostConfig.Resources),
      Devices: (record.HostConfig.Devices ?? []).map((device) => ({
        PathOnHost: device.PathOnHost,
        PathInContainer: device.PathInContainer,
        CgroupPermissions: device.CgroupPermissions,
      })),
      DeviceCgroupRules: record.HostConfig.DeviceCgroupRules ?? [],
      LogConfig: logConfigOf(record.HostConfig),
    },
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: [...record.LayerDirs].reverse().join(':'),
        UpperDir: path.join(directory, 'upper'),
        // The overlay is mounted only in the container's own mount namespace (a crash can leave
        // no mount on the host); while it runs, its root is reachable from the host here.
        MergedDir:
          record.State.Pid > 0 && (record.State.Status === 'running' || record.State.Status === 'paused')
            ? `/proc/${record.State.Pid}/root`
            : path.join(directory, 'merged'),
        WorkDir: path.join(directory, 'work'),
      },
    },
    Mounts: inspectMounts(record),
    Config: record.Config,
    NetworkSettings: networkSettings(record),
  };
}

/** Said on a mount given :z or :Z, which docker would relabel for SELinux. */
export const RELABEL_NOTE = 'not relabelled: gantry applies no SELinux labels';

/**
 * docker's MountPoint fields. Like docker, a --tmpfs mount is listed in HostConfig.Tmpfs, not
 * here (a --mount type=tmpfs one is).
 */
export function inspectMounts(record: ContainerRecord): Record<string, unknown>[] {
  const tmpfs = record.HostConfig.Tmpfs ?? {};
  return record.Mounts.filter((m) => !(m.Type === 'tmpfs' && Object.hasOwn(tmpfs, m.Destination))).map(
    (m) => {
      const type = m.Type ?? 'bind';
      return {
        Type: type,
        ...(type === 'volume' ? { Name: m.Name ?? '' } : {}),
        Source: m.Source,
        Destination: m.Destination,
        ...(type === 'volume' ? { Driver: m.Driver ?? 'local' } : {}),
        Mode: m.Mode ?? (m.ReadOnly ? 'ro' : ''),
        RW: !m.ReadOnly,
        Propagation: m.Propagation ?? (type === 'bind' ? 'rprivate' : ''),
        ...(m.Relabel ? { Relabel: RELABEL_NOTE } : {}),
      };
    },
  );
}

/**
 * docker's NetworkSettings: the top-level address fields are those of the container's first
 * network (podman's choice too; docker fills them for the default bridge only).
 */
function networkSettings(record: ContainerRecord): Record<string, unknown> {
  const settings = record.NetworkSettings;
  if (!settings) {
    return {
      Ports: {},
      IPAddress: '',
      IPPrefixLen: 0,
      Gateway: '',
      MacAddress: '',
      Networks: { [record.HostConfig.NetworkMode]: {} },
    };
  }
  const first = Object.values(settings.Networks)[0];
  const running = record.State.Status === 'running' || record.State.Status === 'paused';
  return {
    Ports: running ? settings.Ports : {},
    IPAddress: first?.IPAddress ?? '',
    IPPrefixLen: first?.IPPrefixLen ?? 0,
    Gateway: first?.Gateway ?? '',
    MacAddress: first?.MacAddress ?? '',
    Networks: settings.Networks,
  };
}
