/**
 * The cgroup v1 driver: one directory per hierarchy, each controller set through its own file
 * (see the files beside this one). On a hybrid host the container also joins the unified
 * hierarchy, as runc does, so tools that look there (systemd) find it.
 */
import path from 'node:path';
import { NotFoundError, UnsupportedError } from '../../errors.js';
import type { CgroupLayout } from '../detect.js';
import { readPressure, type CgroupFs } from '../fs.js';
import { withRollback, type ChangeJournal } from '../journal.js';
import {
  cgroupSegments,
  createdBeforeFailure,
  ensureCgroupDirectory,
  readProcs,
  removeCgroupDirectory,
  removeEmptyParents,
  type NewDirectory,
} from '../tree.js';
import type {
  CgroupManager,
  CgroupMount,
  CgroupStats,
  DeviceRule,
  FreezerState,
  Resources,
  StatsOptions,
} from '../types.js';
import { validateResources } from '../validate.js';
import { blkioController, blkioStats, checkBlkioWeight, wantsBlkioWeight } from './blkio.js';
import type { V1ResourceController } from './controller.js';
import { cpuController, cpuThrottlingStats } from './cpu.js';
import { cpuacctStats } from './cpuacct.js';
import { cpusetController, initialiseCpuset } from './cpuset.js';
import { devicesController } from './devices.js';
import { freezeV1, freezerStateV1, thawV1 } from './freezer.js';
import { hugetlbController } from './hugetlb.js';
import { memoryController, memoryStats, probeKernelMemory } from './memory.js';
import { netClsController } from './net-cls.js';
import { netPrioController } from './net-prio.js';
import { pidsController, pidsStats } from './pids.js';

/** Controllers Gantry places containers in when the host mounts them. */
const USED_CONTROLLERS = new Set([
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'blkio',
  'pids',
  'net_cls',
  'net_prio',
  'hugetlb',
  'perf_event',
  'rdma',
  'misc',
  'name=systemd',
]);

/**
 * Order of application, as runc: cpuset and devices before anything that may start to matter
 * once processes run; memory before cpu so a refused memory limit fails early.
 */
const RESOURCE_CONTROLLERS: V1ResourceController[] = [
  cpusetController,
  devicesController,
  memoryController,
  cpuController,
  pidsController,
  blkioController,
  hugetlbController,
  netClsController,
  netPrioController,
];

interface Hierarchy {
  mountPoint: string;
  controllers: string[];
  type: 'cgroup' | 'cgroup2';
}

export interface V1ManagerOptions {
  layout: CgroupLayout;
  parent: string;
  name: string;
  fs: CgroupFs;
  warn: (message: string) => void;
  /** How long freeze/thaw wait for the freezer to settle. */
  freezeTimeoutMs?: number;
  /** How long destroy() retries a cgroup that is still busy. */
  destroyTimeoutMs?: number;
}

export class V1CgroupManager implements CgroupManager {
  readonly version = 1 as const;
  readonly path: string;
  readonly deviceEnforcement = 'cgroup' as const;
  private readonly segments: { parent: string[]; all: string[] };
  private readonly hierarchies: Hierarchy[];
  private lastDeviceRules: DeviceRule[] | undefined;

  constructor(private readonly options: V1ManagerOptions) {
    this.segments = cgroupSegments(options.parent, options.name);
    this.path = `/${this.segments.all.join('/')}`;
    this.hierarchies = options.layout.hierarchies
      .filter((h) => h.controllers.some((c) => USED_CONTROLLERS.has(c)))
      .map((h) => ({ mountPoint: h.mountPoint, controllers: h.controllers, type: 'cgroup' as const }));
    const unified = options.layout.unified;
    if (options.layout.kind === 'hybrid' && unified) {
      this.hierarchies.push({ mountPoint: unified.mountPoint, controllers: [], type: 'cgroup2' });
    }
  }

  private get fs(): CgroupFs {
    return this.options.fs;
  }

  private dirIn(hierarchy: Hierarchy): string {
    return path.join(hierarchy.mountPoint, ...this.segments.all);
  }

  /** The container's directory in the hierarchy of `controller`, if the host mounts it. */
  controllerDir(controller: string): string | undefined {
    const hierarchy = this.hierarchies.find((h) => h.type === 'cgroup' && h.controllers.includes(controller));
    return hierarchy ? this.dirIn(hierarchy) : undefined;
  }

  private requireDir(controller: string, purpose: string): string {
    const dir = this.controllerDir(controller);
    if (!dir)
      throw new UnsupportedError(
        `the host has no ${controller} cgroup controller, so ${purpose} is not possible`,
      );
    return dir;
  }

  /** Every limit must have its controller before anything is written. */
  private checkControllers(resources: Resources): void {
    if (resources.memoryHigh !== undefined) {
      throw new UnsupportedError('--memory-high needs cgroup v2, and this host uses cgroup v1', {
        hint: 'use --memory-reservation for a soft limit on cgroup v1',
      });
    }
    if (resources.unified !== undefined && Object.keys(resources.unified).length > 0) {
      throw new UnsupportedError(
        'linux.resources.unified sets cgroup v2 files, and this host uses cgroup v1',
        {
          hint: 'set the same limits through the named fields of linux.resources (memory, cpu, pids, blockIO)',
        },
      );
    }
    for (const controller of RESOURCE_CONTROLLERS) {
      if (!controller.wants(resources) || this.controllerDir(controller.name)) continue;
      const netHint = controller.name.startsWith('net_')
        ? {
            hint: `mount it (mount -t cgroup -o ${controller.name} cgroup /sys/fs/cgroup/${controller.name}) or drop the option`,
          }
        : {};
      throw new UnsupportedError(
        `the host has no ${controller.name} cgroup controller, so ${describeWanted(controller.name)} cannot be set`,
        netHint,
      );
    }
  }

  private async applyAll(
    journal: ChangeJournal,
    resources: Resources,
    phase: 'create' | 'update',
  ): Promise<void> {
    for (const controller of RESOURCE_CONTROLLERS) {
      if (!controller.wants(resources)) continue;
      const dir = this.controllerDir(controller.name) as string;
      await controller.apply({ fs: this.fs, dir, journal, phase, warn: this.options.warn }, resources);
    }
    if (resources.devices !== undefined)
      this.lastDeviceRules = resources.devices.map((rule) => ({ ...rule }));
  }

  async checkSupport(resources: Resources, options: { update?: boolean } = {}): Promise<void> {
    validateResources(resources, options);
    this.checkControllers(resources);
    const memoryHierarchy = this.hierarchies.find(
      (h) => h.type === 'cgroup' && h.controllers.includes('memory'),
    );
    if (resources.kernelMemory !== undefined && resources.kernelMemory > 0 && memoryHierarchy) {
      await probeKernelMemory(this.fs, memoryHierarchy.mountPoint, resources.kernelMemory);
    }
    const blkioHierarchy = this.hierarchies.find(
      (h) => h.type === 'cgroup' && h.controllers.includes('blkio'),
    );
    if (wantsBlkioWeight(resources) && blkioHierarchy) {
      await checkBlkioWeight(this.fs, blkioHierarchy.mountPoint);
    }
  }

  async create(resources: Resources): Promise<void> {
    validateResources(resources);
    this.checkControllers(resources);
    const created: NewDirectory[] = [];
    try {
      for (const hierarchy of this.hierarchies) {
        const isCpuset = hierarchy.controllers.includes('cpuset');
        const dirs = await ensureCgroupDirectory(
          this.fs,
          hierarchy.mountPoint,
          this.segments.all,
          async (dir, isNew, leaf) => {
            if (!isCpuset) return;
            const ours = isNew || leaf || (await this.fs.createdByGantry(dir).catch(() => false));
            await initialiseCpuset(this.fs, dir, ours);
          },
          this.options.warn,
        ).catch((error: unknown) => {
          created.push(...createdBeforeFailure(error));
          throw error;
        });
        created.push(...dirs);
      }
      await withRollback(this.fs, (journal) => this.applyAll(journal, resources, 'create'));
    } catch (error) {
      // All or nothing: take away the directories this call made, deepest first.
      for (const { dir } of created.reverse()) {
        await removeCgroupDirectory(this.fs, dir, 0).catch(() => undefined);
      }
      throw error;
    }
  }

  async update(resources: Resources): Promise<void> {
    validateResources(resources, { update: true });
    this.checkControllers(resources);
    if (!(await this.exists())) throw new NotFoundError(`the cgroup ${this.path} does not exist`);
    await withRollback(this.fs, (journal) => this.applyAll(journal, resources, 'update'));
  }

  procsFiles(): string[] {
    return this.hierarchies.map((h) => path.join(this.dirIn(h), 'cgroup.procs'));
  }

  oomCounter(): { file: string; key: string; eventControl?: string } | undefined {
    const dir = this.controllerDir('memory');
    if (!dir) return undefined;
    return {
      file: path.join(dir, 'memory.oom_control'),
      key: 'oom_kill',
      eventControl: path.join(dir, 'cgroup.event_control'),
    };
  }

  containerMounts(): CgroupMount[] {
    return this.hierarchies.map((h) => ({
      destination: path.posix.join('/sys/fs/cgroup', path.basename(h.mountPoint)),
      type: h.type,
      source: h.type,
      options: h.controllers,
    }));
  }

  async freeze(): Promise<void> {
    const dir = this.requireDir('freezer', 'pausing the container');
    await freezeV1(this.fs, dir, timeout(this.options.freezeTimeoutMs));
  }

  async thaw(): Promise<void> {
    const dir = this.requireDir('freezer', 'resuming the container');
    await thawV1(this.fs, dir, timeout(this.options.freezeTimeoutMs));
  }

  async freezerState(): Promise<FreezerState> {
    return freezerStateV1(this.fs, this.requireDir('freezer', 'reading the pause state'));
  }

  async pids(): Promise<number[]> {
    // Every hierarchy should hold the same processes; the union also finds one that joined only
    // some of them (a setup that failed half-way), which must be gone before destroy().
    const all = new Set<number>();
    for (const hierarchy of this.hierarchies) {
      for (const pid of await readProcs(this.fs, this.dirIn(hierarchy))) all.add(pid);
    }
    return [...all].sort((a, b) => a - b);
  }

  async stats(options: StatsOptions = {}): Promise<CgroupStats> {
    const stats: CgroupStats = { time: Date.now() };
    const { only } = options;
    const summary = options.summary === true || only !== undefined;
    const memoryDir = !only || only === 'memory' ? this.controllerDir('memory') : undefined;
    if (memoryDir) {
      const memory = await memoryStats(this.fs, memoryDir, { summary });
      if (memory) stats.memory = memory;
    }
    const cpuacctDir = !only || only === 'cpu' ? this.controllerDir('cpuacct') : undefined;
    const cpuDir = this.controllerDir('cpu');
    const usage = cpuacctDir ? await cpuacctStats(this.fs, cpuacctDir, { summary }) : undefined;
    const throttling = cpuDir && !summary ? await cpuThrottlingStats(this.fs, cpuDir) : undefined;
    if (usage || throttling) stats.cpu = { usageNanos: 0, ...throttling, ...usage };
    const pidsDir = !only || only === 'pids' ? this.controllerDir('pids') : undefined;
    if (pidsDir) {
      const pids = await pidsStats(this.fs, pidsDir);
      if (pids) stats.pids = pids;
    }
    if (summary) return stats;
    const blkioDir = this.controllerDir('blkio');
    if (blkioDir) {
      const io = await blkioStats(this.fs, blkioDir);
      if (io) stats.io = io;
    }
    // On a hybrid host the container's directory in the unified tree has the PSI files (pressure
    // accounting is part of cgroup v2 itself, whatever controllers that tree carries).
    const unified = this.hierarchies.find((h) => h.type === 'cgroup2');
    if (unified) {
      const pressure = await readPressure(this.fs, this.dirIn(unified));
      if (pressure) stats.pressure = pressure;
    }
    return stats;
  }

  async destroy(): Promise<void> {
    const failures: unknown[] = [];
    for (const hierarchy of this.hierarchies) {
      try {
        await removeCgroupDirectory(this.fs, this.dirIn(hierarchy), this.options.destroyTimeoutMs);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  async exists(): Promise<boolean> {
    for (const hierarchy of this.hierarchies) {
      if (await this.fs.exists(this.dirIn(hierarchy))) return true;
    }
    return false;
  }

  async removeParentIfEmpty(): Promise<void> {
    for (const hierarchy of this.hierarchies) {
      await removeEmptyParents(this.fs, hierarchy.mountPoint, this.segments.parent);
    }
  }

  deviceRules(): DeviceRule[] | undefined {
    return this.lastDeviceRules?.map((rule) => ({ ...rule }));
  }
}

function timeout(ms: number | undefined): { timeoutMs?: number } {
  return ms === undefined ? {} : { timeoutMs: ms };
}

function describeWanted(controller: string): string {
  switch (controller) {
    case 'net_cls':
      return 'the net_cls class id (--net-cls-classid)';
    case 'net_prio':
      return 'network priorities (--net-prio)';
    case 'hugetlb':
      return 'huge page limits';
    case 'blkio':
      return 'block I/O weights and throttles';
    case 'cpuset':
      return '--cpuset-cpus/--cpuset-mems';
    default:
      return `${controller} limits`;
  }
}
