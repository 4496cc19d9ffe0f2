/**
 * The cgroup v2 driver: one directory in the unified tree, controllers enabled down the parent
 * chain, each controller set through its own file beside this one.
 */
import path from 'node:path';
import { NotFoundError, UnsupportedError } from '../../errors.js';
import type { CgroupLayout, UnifiedHierarchy } from '../detect.js';
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
import type { V2ResourceController } from './controller.js';
import { cpuController, cpuStats } from './cpu.js';
import { cpusetController } from './cpuset.js';
import { deviceProgram, hostDeviceFilter, recordDeviceRules, type DeviceFilter } from './devices.js';
import { freezerStateV2, freezeV2, thawV2 } from './freezer.js';
import { hugetlbController } from './hugetlb.js';
import { checkDeviceWeights, hostSchedulerOf, ioController, ioStats, type SchedulerOf } from './io.js';
import { memoryController, memoryStats } from './memory.js';
import { pidsController, pidsStats } from './pids.js';
import {
  availableControllers,
  disableControllers,
  enableControllers,
  makeRoomForChildren,
  missingControllers,
  ownCgroup,
  WANTED_CONTROLLERS,
} from './subtree.js';
import { checkUnified, unifiedControllers, unifiedFiles } from './unified.js';

const RESOURCE_CONTROLLERS: V2ResourceController[] = [
  cpusetController,
  memoryController,
  cpuController,
  pidsController,
  ioController,
  hugetlbController,
];

export interface V2ManagerOptions {
  layout: CgroupLayout;
  parent: string;
  name: string;
  fs: CgroupFs;
  warn: (message: string) => void;
  freezeTimeoutMs?: number;
  destroyTimeoutMs?: number;
  /** Attaches the device rules' BPF program; the host's bpf(2) when absent. */
  deviceFilter?: DeviceFilter;
  /** A disk's I/O scheduler (for per-device weights); sysfs when absent. */
  schedulerOf?: SchedulerOf;
  /** This process's cgroup as /proc/self/cgroup says; read from there when absent. */
  ownCgroup?: () => string | undefined;
}

export class V2CgroupManager implements CgroupManager {
  readonly version = 2 as const;
  readonly path: string;
  readonly deviceEnforcement = 'ebpf' as const;
  private readonly segments: { parent: string[]; all: string[] };
  private readonly unified: UnifiedHierarchy;
  private readonly dir: string;
  private lastDeviceRules: DeviceRule[] | undefined;

  constructor(private readonly options: V2ManagerOptions) {
    if (!options.layout.unified) throw new UnsupportedError('the host has no cgroup v2 (unified) hierarchy');
    this.unified = options.layout.unified;
    this.segments = cgroupSegments(options.parent, options.name);
    this.path = `/${this.segments.all.join('/')}`;
    this.dir = path.join(this.unified.mountPoint, ...this.segments.all);
  }

  private get fs(): CgroupFs {
    return this.options.fs;
  }

  private get deviceFilter(): DeviceFilter {
    return this.options.deviceFilter ?? hostDeviceFilter;
  }

  /** The container's directory in the unified tree. */
  get directory(): string {
    return this.dir;
  }

  /** Controllers `resources` needs, after refusing what v2 cannot do at all. */
  private requiredControllers(resources: Resources): Set<string> {
    if (resources.netClsClassid !== undefined || resources.netPrioIfpriomap !== undefined) {
      throw new UnsupportedError(
        "the host's cgroup v2 has no net_cls/net_prio controller; egress classes and priorities are not available on a cgroup v2 host",
        { hint: 'classify traffic with tc or nftables by cgroup path (socket cgroupv2 match) instead' },
      );
    }
    if (resources.kernelMemory !== undefined && resources.kernelMemory !== 0) {
      throw new UnsupportedError(
        'cgroup v2 has no separate kernel-memory limit (kernel memory counts toward --memory)',
        {
          hint: 'drop --kernel-memory',
        },
      );
    }
    if (resources.memorySwappiness !== undefined) {
      throw new UnsupportedError('cgroup v2 has no per-cgroup swappiness (--memory-swappiness)', {
        hint: 'drop --memory-swappiness; limit swap with --memory-swap instead',
      });
    }
    if (resources.oomKillDisable === true) {
      throw new UnsupportedError(
        'cgroup v2 cannot disable the OOM killer for a cgroup (--oom-kill-disable)',
        {
          hint: 'drop --oom-kill-disable, or give the container more --memory',
        },
      );
    }
    checkDeviceWeights(resources, this.options.schedulerOf ?? hostSchedulerOf);
    checkUnified(resources.unified);
    return new Set([
      ...RESOURCE_CONTROLLERS.filter((c) => c.wants(resources)).map((c) => c.name),
      ...unifiedControllers(resources.unified),
    ]);
  }

  private async checkAvailable(required: Set<string>, where: string): Promise<void> {
    const available = new Set(await availableControllers(this.fs, where));
    for (const controller of required) {
      if (!available.has(controller)) {
        throw new UnsupportedError(
          `the host's cgroup v2 has no ${controller} controller available at ${where}`,
          {
            hint: `available: ${[...available].join(' ') || 'none'}`,
          },
        );
      }
    }
  }

  private async applyAll(
    journal: ChangeJournal,
    resources: Resources,
    phase: 'create' | 'update',
  ): Promise<void> {
    for (const controller of RESOURCE_CONTROLLERS) {
      if (!controller.wants(resources)) continue;
      await controller.apply(
        { fs: this.fs, dir: this.dir, journal, phase, warn: this.options.warn },
        resources,
      );
    }
    // After the named limits, so a raw value of the same file wins (as with runc).
    await unifiedFiles(
      { fs: this.fs, dir: this.dir, journal, phase, warn: this.options.warn },
      resources.unified,
    );
    if (resources.devices !== undefined) {
      // Last, so a refused program leaves only the journal's writes to undo: replace() itself
      // leaves the cgroup with the programs it had.
      await this.deviceFilter.replace(this.dir, deviceProgram(resources.devices));
      this.lastDeviceRules = recordDeviceRules(resources);
    }
  }

  async checkSupport(resources: Resources, options: { update?: boolean } = {}): Promise<void> {
    validateResources(resources, options);
    const required = this.requiredControllers(resources);
    await this.checkAvailable(required, this.unified.mountPoint);
    // Loads the very program create() would attach, so a host without BPF device programs (or
    // a program the verifier refuses) is found before the cgroup exists.
    if (resources.devices !== undefined) await this.deviceFilter.check(deviceProgram(resources.devices));
  }

  async create(resources: Resources): Promise<void> {
    validateResources(resources);
    const required = this.requiredControllers(resources);
    await this.checkAvailable(required, this.unified.mountPoint);
    let created: NewDirectory[] = [];
    // Controllers enabled in cgroups this call did not make, taken back if the create fails.
    const enabledElsewhere: { dir: string; controllers: string[] }[] = [];
    try {
      await this.delegateFrom(this.unified.mountPoint, false, required, enabledElsewhere);
      created = await ensureCgroupDirectory(
        this.fs,
        this.unified.mountPoint,
        this.segments.all,
        async (dir, isNew, leaf) => {
          // A leaf holds the processes, and v2 lets only cgroups without enabled children
          // controllers hold processes, so only the parents enable anything.
          if (!leaf) await this.delegateFrom(dir, isNew, required, enabledElsewhere);
        },
        this.options.warn,
      ).catch((error: unknown) => {
        created = createdBeforeFailure(error);
        throw error;
      });
      await withRollback(this.fs, (journal) => this.applyAll(journal, resources, 'create'));
    } catch (error) {
      for (const { dir } of [...created].reverse()) {
        await removeCgroupDirectory(this.fs, dir, 0).catch(() => undefined);
      }
      for (const { dir, controllers } of [...enabledElsewhere].reverse()) {
        await disableControllers(this.fs, dir, controllers);
      }
      throw error;
    }
  }

  /**
   * Makes `dir` give its children the controllers a container needs. A cgroup this call did not
   * make is checked for processes of its own first (see makeRoomForChildren), and what is enabled
   * there is recorded in `enabledElsewhere`.
   */
  private async delegateFrom(
    dir: string,
    isNew: boolean,
    required: Set<string>,
    enabledElsewhere: { dir: string; controllers: string[] }[],
  ): Promise<void> {
    if ((await missingControllers(this.fs, dir, WANTED_CONTROLLERS)).length === 0) return;
    if (isNew) {
      await enableControllers(this.fs, dir, WANTED_CONTROLLERS, required);
      return;
    }
    const own = (this.options.ownCgroup ?? ownCgroup)();
    await makeRoomForChildren(this.fs, dir, {
      namespaceRoot: dir === this.unified.mountPoint && own === '/',
    });
    const entry = { dir, controllers: [] as string[] };
    enabledElsewhere.push(entry);
    await enableControllers(this.fs, dir, WANTED_CONTROLLERS, required, entry.controllers);
  }

  async update(resources: Resources): Promise<void> {
    validateResources(resources, { update: true });
    const required = this.requiredControllers(resources);
    if (!(await this.exists())) throw new NotFoundError(`the cgroup ${this.path} does not exist`);
    await this.checkAvailable(required, this.dir);
    await withRollback(this.fs, (journal) => this.applyAll(journal, resources, 'update'));
  }

  procsFiles(): string[] {
    return [path.join(this.dir, 'cgroup.procs')];
  }

  oomCounter(): { file: string; key: string } {
    return { file: path.join(this.dir, 'memory.events'), key: 'oom_kill' };
  }

  containerMounts(): CgroupMount[] {
    return [{ destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup2', options: [] }];
  }

  async freeze(): Promise<void> {
    await freezeV2(this.fs, this.dir, this.options.freezeTimeoutMs);
  }

  async thaw(): Promise<void> {
    await thawV2(this.fs, this.dir, this.options.freezeTimeoutMs);
  }

  async freezerState(): Promise<FreezerState> {
    return freezerStateV2(this.fs, this.dir);
  }

  async pids(): Promise<number[]> {
    return (await readProcs(this.fs, this.dir)).sort((a, b) => a - b);
  }

  async stats(options: StatsOptions = {}): Promise<CgroupStats> {
    const stats: CgroupStats = { time: Date.now() };
    const { only } = options;
    const summary = options.summary === true || only !== undefined;
    const memory = !only || only === 'memory' ? await memoryStats(this.fs, this.dir, { summary }) : undefined;
    if (memory) stats.memory = memory;
    const cpu = !only || only === 'cpu' ? await cpuStats(this.fs, this.dir) : undefined;
    if (cpu) stats.cpu = cpu;
    const pids = !only || only === 'pids' ? await pidsStats(this.fs, this.dir) : undefined;
    if (pids) stats.pids = pids;
    if (summary) return stats;
    const io = await ioStats(this.fs, this.dir);
    if (io) stats.io = io;
    const pressure = await readPressure(this.fs, this.dir);
    if (pressure) stats.pressure = pressure;
    return stats;
  }

  async destroy(): Promise<void> {
    await removeCgroupDirectory(this.fs, this.dir, this.options.destroyTimeoutMs);
  }

  async exists(): Promise<boolean> {
    return this.fs.exists(this.dir);
  }

  async removeParentIfEmpty(): Promise<void> {
    await removeEmptyParents(this.fs, this.unified.mountPoint, this.segments.parent);
  }

  deviceRules(): DeviceRule[] | undefined {
    return this.lastDeviceRules?.map((rule) => ({ ...rule }));
  }
}
