/**
 * `gantry-oci update`: new limits for a container's cgroup, from a linux.resources object
 * (`-r FILE`, `-r -` for stdin, as containerd's shim passes it) or from runc's flags.
 */
import fs from 'node:fs';
import { InvalidArgumentError, ConflictError } from '../errors.js';
import type { OciLinuxResources } from '../spec/types.js';
import { containerCgroup } from './cgroup.js';
import { resourcesFromLinux } from './resources.js';
import type { OciStore } from './store.js';

export interface UpdateFlags {
  resources?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  kernelMemory?: string;
  cpuShares?: string;
  cpuQuota?: string;
  cpuPeriod?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A byte count as runc takes it: a number with an optional k, m, g or t (powers of 1024); -1 is no limit. */
function bytes(value: string, field: string): number {
  if (value === '-1') return -1;
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$/i.exec(value.trim());
  if (!match) {
    throw new InvalidArgumentError(
      `invalid value ${JSON.stringify(value)} for ${field}: a number of bytes, optionally with k, m, g or t (e.g. 256m), or -1`,
    );
  }
  return Math.round(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
}

function integer(value: string, field: string): number {
  if (!/^-?\d+$/.test(value.trim()))
    throw new InvalidArgumentError(
      `invalid value ${JSON.stringify(value)} for ${field}: an integer is expected`,
    );
  return Number(value);
}

function readResources(file: string): OciLinuxResources {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`cannot read the resources file ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(
      `the resources in ${file} are not valid JSON: ${(error as Error).message}`,
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidArgumentError(`the resources in ${file} must be a linux.resources object`);
  return parsed as OciLinuxResources;
}

/** The spec's linux.resources the flags ask for, over those of -r. */
export function resourcesFromFlags(flags: UpdateFlags, warn: (message: string) => void): OciLinuxResources {
  const resources: OciLinuxResources = flags.resources ? readResources(flags.resources) : {};
  const memory = { ...resources.memory };
  if (flags.memory !== undefined) memory.limit = bytes(flags.memory, 'memory.limit (--memory)');
  if (flags.memoryReservation !== undefined)
    memory.reservation = bytes(flags.memoryReservation, 'memory.reservation (--memory-reservation)');
  if (flags.memorySwap !== undefined) memory.swap = bytes(flags.memorySwap, 'memory.swap (--memory-swap)');
  if (flags.kernelMemory !== undefined || memory.kernel !== undefined) {
    warn('memory.kernel is ignored: the kernel no longer limits kernel memory apart (as runc)');
    delete memory.kernel;
  }
  if (Object.keys(memory).length > 0) resources.memory = memory;
  const cpu = { ...resources.cpu };
  if (flags.cpuShares !== undefined) cpu.shares = integer(flags.cpuShares, 'cpu.shares (--cpu-share)');
  if (flags.cpuQuota !== undefined) cpu.quota = integer(flags.cpuQuota, 'cpu.quota (--cpu-quota)');
  if (flags.cpuPeriod !== undefined) cpu.period = integer(flags.cpuPeriod, 'cpu.period (--cpu-period)');
  if (flags.cpusetCpus !== undefined) cpu.cpus = flags.cpusetCpus;
  if (flags.cpusetMems !== undefined) cpu.mems = flags.cpusetMems;
  if (Object.keys(cpu).length > 0) resources.cpu = cpu;
  if (flags.pidsLimit !== undefined)
    resources.pids = { limit: integer(flags.pidsLimit, 'pids.limit (--pids-limit)') };
  if (flags.blkioWeight !== undefined)
    resources.blockIO = {
      ...resources.blockIO,
      weight: integer(flags.blkioWeight, 'blockIO.weight (--blkio-weight)'),
    };
  return resources;
}

export async function update(store: OciStore, id: string, flags: UpdateFlags): Promise<void> {
  const state = await store.load(id);
  const status = store.status(state);
  if (status === 'stopped') throw new ConflictError(`cannot update container ${id}: it is stopped`);
  const warn = (message: string) => process.stderr.write(`gantry-oci: warning: ${message}\n`);
  const linux = resourcesFromFlags(flags, warn);
  if (linux.devices) {
    // Replacing the device rules of a running container could open what create closed.
    warn('devices is not changed by update (as runc): the rules of create stay');
    delete linux.devices;
  }
  const resources = resourcesFromLinux(linux);
  if (Object.keys(resources).length === 0) return;
  const cgroup = containerCgroup(store, state);
  await cgroup.checkSupport(resources, { update: true });
  await cgroup.update(resources);
}
