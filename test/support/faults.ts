/**
 * Faults performed for real: the real CLI stopped at a named phase (GANTRY_TRACE_STOP, see
 * source/runtime/trace.ts) and then killed there or resumed, processes found and stopped the
 * way a user (or a crash) would, and small tmpfs filesystems that fill up for real.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ResultPromise } from 'execa';
import { expect } from 'vitest';
import type { TestEngine } from './engine.js';
import { waitFor } from './engine.js';

/** The environment the engine's own commands run with (inside its network namespace, the default network applies). */
function engineEnv(engine: TestEngine): Record<string, string> {
  return engine.netns ? { ...engine.env, GANTRY_DEFAULT_NETWORK: '' } : engine.env;
}

/** The state letter of /proc/PID/stat, or undefined once the process is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Gone, or a zombie nobody reaps (the sandbox's pid 1 may not): either way it runs no more. */
export function isGone(pid: number): boolean {
  const state = processState(pid);
  return state === undefined || state === 'Z' || state === 'X';
}

export function parentPid(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

export interface StoppedCommand {
  child: ResultPromise;
  pid: number;
  /** SIGKILL, as a crash would, and wait until it is gone. */
  kill(): Promise<void>;
  /** Lets it go on from the phase (SIGCONT) and waits for its result. */
  resume(): Promise<{ exitCode: number; stderr: string }>;
}

/**
 * Runs `gantry ARGS` until it reaches phase `label` (a trace point), where it stops itself
 * (state T, read from the kernel). Fails if the command ends without reaching it.
 */
export async function runUntilPhase(
  engine: TestEngine,
  args: readonly string[],
  label: string,
  env?: Record<string, string>,
): Promise<StoppedCommand>;
/**
 * With `optional`, a phase the command may or may not pass (recording a container's end, which
 * its monitor's own cleanup may do first) gives undefined when the command ended without it.
 */
export async function runUntilPhase(
  engine: TestEngine,
  args: readonly string[],
  label: string,
  env: Record<string, string>,
  optional: true,
): Promise<StoppedCommand | undefined>;
export async function runUntilPhase(
  engine: TestEngine,
  args: readonly string[],
  label: string,
  env: Record<string, string> = {},
  optional = false,
): Promise<StoppedCommand | undefined> {
  const child = engine.spawn(args, {
    env: { ...engineEnv(engine), ...env, GANTRY_TRACE_STOP: label },
    stdin: 'ignore',
    all: false,
  });
  const pid = child.pid!;
  let ended: { exitCode?: number; stderr?: unknown } | undefined;
  void child.then((result) => (ended = result));
  const reached = await waitFor(
    () => {
      if (ended && optional) return 'ended';
      if (ended)
        throw new Error(`gantry ${args.join(' ')} ended before phase "${label}": ${String(ended.stderr)}`);
      return processState(pid) === 'T' ? 'stopped' : undefined;
    },
    60_000,
    `gantry ${args.join(' ')} to reach "${label}"`,
  );
  if (reached === 'ended') return undefined;
  return {
    child,
    pid,
    async kill() {
      process.kill(pid, 'SIGKILL');
      await child;
    },
    async resume() {
      process.kill(pid, 'SIGCONT');
      const result = await child;
      return { exitCode: result.exitCode ?? 128, stderr: String(result.stderr ?? '') };
    },
  };
}

/** The phases (trace points) a command passes, in order, from a traced run of it. */
export function phasesOf(stderr: string): string[] {
  const phases: string[] = [];
  for (const line of stderr.split('\n')) {
    const match = /^\[gantry [^\]]*\] (.*)$/.exec(line);
    if (match && !phases.includes(match[1]!)) phases.push(match[1]!);
  }
  return phases;
}

/** A tmpfs of `size` mounted on a directory of the test's own; unmount() in cleanup. */
export interface SmallDisk {
  path: string;
  unmount(): void;
}

export function mountSmallTmpfs(parent: string, name: string, size: string): SmallDisk {
  const target = path.join(parent, name);
  fs.mkdirSync(target, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0711`, 'tmpfs', target]);
  return {
    path: target,
    unmount() {
      try {
        execFileSync('umount', [target]);
      } catch {
        execFileSync('umount', ['-l', target]);
      }
    },
  };
}

/** Fills the filesystem that holds `directory` to the last byte, with one file. */
export function fillDisk(directory: string, file = path.join(directory, 'filler')): string {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  // The last partial chunk, byte by byte down to nothing.
  const small = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, small);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

function listDirectory(directory: string): string[] {
  try {
    return fs.readdirSync(directory);
  } catch {
    return [];
  }
}

interface StoredImage {
  id: string;
  manifestDigest: string;
  configDigest: string;
  layers: { chainId: string; blobDigest: string }[];
}

/**
 * What a state root holds that nothing accounts for: journal entries, work and removal
 * directories, temporary files of writes never finished, container directories without a record,
 * names of no container, layers and blobs no image record references, half-made commits, frozen
 * containers recorded as running, and cgroups of containers that are not running. Empty when the
 * state is whole.
 */
export function leftovers(root: string, cgroupParent: string): string[] {
  const found: string[] = [];
  for (const name of listDirectory(path.join(root, 'journal'))) found.push(`journal entry ${name}`);
  for (const name of listDirectory(path.join(root, 'tmp')))
    if (/^(image-|removing-)/.test(name)) found.push(`tmp/${name}`);
  if (fs.existsSync(path.join(root, 'images', '.commit-in-progress')))
    found.push('an unfinished store commit');
  for (const store of ['images', 'build-cache', 'networks', 'userns'])
    for (const name of listDirectory(path.join(root, store)))
      if (/^\..+\.\d+\.\d+\.tmp$/.test(name)) found.push(`${store}/${name}, a write never finished`);
  const running = new Set<string>();
  const containers = new Set(listDirectory(path.join(root, 'containers')));
  for (const id of containers) {
    const file = path.join(root, 'containers', id, 'state.json');
    let status: string;
    try {
      status = (JSON.parse(fs.readFileSync(file, 'utf8')) as { State: { Status: string } }).State.Status;
    } catch {
      found.push(`container ${id} without a readable record`);
      continue;
    }
    if (status === 'running' || status === 'paused') running.add(id);
    const freezer = path.join('/sys/fs/cgroup/freezer', cgroupParent, id, 'freezer.state');
    if (status !== 'paused' && fs.existsSync(freezer) && fs.readFileSync(freezer, 'utf8').trim() !== 'THAWED')
      found.push(`container ${id} is frozen but recorded as ${status}`);
  }
  for (const name of listDirectory(path.join(root, 'names'))) {
    const target = path.basename(fs.readlinkSync(path.join(root, 'names', name)));
    if (!containers.has(target)) found.push(`name ${name} of no container (${target})`);
  }
  for (const hierarchy of listDirectory('/sys/fs/cgroup')) {
    for (const id of listDirectory(path.join('/sys/fs/cgroup', hierarchy, cgroupParent))) {
      if (/^[0-9a-f]{64}$/.test(id) && !running.has(id)) found.push(`cgroup ${hierarchy}/${id}`);
    }
  }
  const layers = new Set<string>();
  const blobs = new Set<string>();
  for (const name of listDirectory(path.join(root, 'images'))) {
    if (!name.endsWith('.json')) continue;
    const image = JSON.parse(fs.readFileSync(path.join(root, 'images', name), 'utf8')) as StoredImage;
    blobs.add(image.manifestDigest.replace('sha256:', ''));
    blobs.add(image.configDigest.replace('sha256:', ''));
    for (const layer of image.layers) {
      layers.add(layer.chainId.replace('sha256:', ''));
      blobs.add(layer.blobDigest.replace('sha256:', ''));
    }
  }
  for (const layer of listDirectory(path.join(root, 'layers')))
    if (!layers.has(layer)) found.push(`layer ${layer} of no image`);
  for (const blob of listDirectory(path.join(root, 'blobs', 'sha256')))
    if (!blobs.has(blob)) found.push(`blob ${blob} of no image`);
  return found;
}

/**
 * Phases a command may or may not pass: recording a container's end, which the container's
 * monitor may do first through its own cleanup command.
 */
const RACING = /^finalize: /;

/** The next commands, of every kind, in turn: none of them is about what was killed. */
const NEXT_COMMANDS = [['image', 'ls'], ['ps'], ['images', '-q'], ['ps', '-a', '-q']];

/** The kill-at-each-phase soak over one test engine. */
export function phaseSoak(engine: TestEngine) {
  let nextIndex = 0;
  const ok = async (args: string[]): Promise<string> => {
    const result = await engine.gantry(args);
    expect(result.exitCode, `gantry ${args.join(' ')}:\n${result.stderr}`).toBe(0);
    return result.stdout.trim();
  };
  return {
    ok,
    /** Runs the next command of some unrelated kind and checks that nothing is left over. */
    async nextCommandLeavesNothing(what: string): Promise<void> {
      const next = NEXT_COMMANDS[nextIndex++ % NEXT_COMMANDS.length]!;
      const result = await engine.gantry(next);
      expect(result.exitCode, `${what}: gantry ${next.join(' ')}: ${result.stderr}`).toBe(0);
      // What the command said (a recovery that failed warns and exits 0) names the cause.
      expect(
        leftovers(engine.root, engine.cgroupParent),
        `${what}: gantry ${next.join(' ')} said: ${result.stderr}`,
      ).toEqual([]);
    },
    /** Stops `gantry ARGS` at `phase` and kills it there; false if it ended without passing it. */
    async killAt(args: string[], phase: string): Promise<boolean> {
      const command = RACING.test(phase)
        ? await runUntilPhase(engine, args, phase, {}, true)
        : await runUntilPhase(engine, args, phase);
      if (!command) return false;
      await command.kill();
      return true;
    },
    /** The phases `gantry ARGS` passes (its own, not the CLI's startup), from a traced run. */
    async phases(args: string[]): Promise<string[]> {
      const traced = await engine.gantry(args, { env: { ...engineEnv(engine), GANTRY_TRACE: '1' } });
      expect(traced.exitCode, traced.stderr).toBe(0);
      const found = phasesOf(traced.stderr).filter((phase) => !phase.startsWith('cli:'));
      expect(found.length, `phases of gantry ${args.join(' ')}`).toBeGreaterThan(1);
      return found;
    },
  };
}
