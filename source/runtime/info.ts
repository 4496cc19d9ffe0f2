/**
 * What `gantry info` reports, in docker's field names (`docker info --format '{{json .}}'`): the
 * containers and images in the state root, the storage driver and the filesystem under it, the
 * cgroup version and driver the engine uses, the runtime, and the host's kernel, OS and sizes.
 */
import fs from 'node:fs';
import os from 'node:os';
import { hostCgroupLayout } from './cgroups/detect.js';
import type { Engine } from './containers/engine.js';
import { FILE_DRIVER } from './containers/log-config.js';
import { helperPath } from './init/helper.js';

export interface SystemInfo {
  ID: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  Driver: string;
  DriverStatus: [string, string][];
  LoggingDriver: string;
  CgroupDriver: string;
  CgroupVersion: string;
  /** v1, v2, or hybrid (v1 controllers beside a cgroup2 tree). */
  CgroupLayout: string;
  CgroupParent: string;
  KernelVersion: string;
  OperatingSystem: string;
  OSVersion: string;
  OSType: string;
  Architecture: string;
  NCPU: number;
  MemTotal: number;
  DockerRootDir: string;
  Name: string;
  ServerVersion: string;
  DefaultRuntime: string;
  Runtimes: Record<string, { path: string }>;
  SecurityOptions: string[];
  Warnings: string[];
}

/** Magic numbers of statfs(2)'s f_type, named as docker's "Backing Filesystem". */
const FILESYSTEMS: Record<number, string> = {
  0xef53: 'extfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
  0x6a656a63: 'v9fs',
  0x01021997: 'v9fs',
  0xf2f52010: 'f2fs',
};

function osRelease(): Record<string, string> {
  for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      const fields: Record<string, string> = {};
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const match = /^([A-Z_]+)=(.*)$/.exec(line);
        if (match) fields[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
      }
      return fields;
    } catch {
      // the next candidate
    }
  }
  return {};
}

function machineId(): string {
  try {
    return fs.readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {
    return '';
  }
}

export async function collectInfo(
  engine: Engine,
  version: string,
  options: { cgroupParent: string; cgroupRoot?: string },
): Promise<SystemInfo> {
  const { records } = await engine.list({ all: true });
  const count = (status: string) => records.filter((record) => record.State.Status === status).length;
  const running = count('running');
  const paused = count('paused');
  const images = await engine.images.list();
  const root = engine.layout.root;
  const layout = hostCgroupLayout(options.cgroupRoot);
  const release = osRelease();
  const warnings: string[] = [];
  let backing = 'unknown';
  try {
    backing = FILESYSTEMS[fs.statfsSync(root).type] ?? `0x${fs.statfsSync(root).type.toString(16)}`;
  } catch (error) {
    warnings.push(`cannot read the filesystem of ${root}: ${(error as Error).message}`);
  }
  let helper = '';
  try {
    helper = helperPath();
  } catch (error) {
    warnings.push((error as Error).message);
  }
  if (layout.kind === 'hybrid')
    warnings.push('cgroups are hybrid: the v1 controllers are used, the cgroup2 tree beside them is not');
  return {
    ID: machineId(),
    Containers: records.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: records.length - running - paused,
    Images: images.length,
    Driver: 'overlay',
    DriverStatus: [
      ['Backing Filesystem', backing],
      ['Supports d_type', 'true'],
    ],
    LoggingDriver: FILE_DRIVER,
    CgroupDriver: 'cgroupfs',
    CgroupVersion: String(layout.driver),
    CgroupLayout: layout.kind,
    CgroupParent: options.cgroupParent,
    KernelVersion: os.release(),
    OperatingSystem: release.PRETTY_NAME ?? 'Linux',
    OSVersion: release.VERSION_ID ?? '',
    OSType: 'linux',
    Architecture: os.machine(),
    NCPU: os.availableParallelism(),
    MemTotal: os.totalmem(),
    DockerRootDir: root,
    Name: os.hostname(),
    ServerVersion: version,
    DefaultRuntime: 'gantry',
    Runtimes: { gantry: { path: helper } },
    SecurityOptions: ['name=seccomp,profile=builtin', 'name=no-new-privileges', 'name=cgroupns'],
    Warnings: warnings,
  };
}
