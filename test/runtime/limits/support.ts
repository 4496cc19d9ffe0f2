/** Helpers of the resource-limit tests: a container's cgroup files, the event stream, the root's disk. */
import fs from 'node:fs';
import path from 'node:path';
import type { EngineEvent } from '../../../source/runtime/containers/events.js';
import { splitDeviceNumber } from '../../../source/runtime/cgroups/parse.js';
import { detectCgroupLayout } from '../../../source/runtime/cgroups/detect.js';
import { waitFor, type TestEngine } from '../../support/engine.js';
import { firstCause, needsRoot, type SkipCause } from '../../support/skip.js';

const v1Host = (() => {
  try {
    return detectCgroupLayout().driver === 1;
  } catch {
    return false;
  }
})();

/** Why the limit tests skip: they need root and this host's cgroup v1 hierarchies. */
export const skipUnlessV1Root: SkipCause | undefined = firstCause(
  needsRoot(),
  !v1Host && 'these tests use the cgroup v1 hierarchies, and this host uses cgroup v2',
);

/** The container's directory in a v1 hierarchy (the real one; these tests run on the v1 host). */
export function cgroupDir(engine: TestEngine, controller: string, id: string): string {
  return path.join('/sys/fs/cgroup', controller, engine.cgroupParent, id);
}

export function cgroupFile(engine: TestEngine, controller: string, id: string, file: string): string {
  return fs.readFileSync(path.join(cgroupDir(engine, controller, id), file), 'utf8').trim();
}

export interface Inspected {
  Id: string;
  State: {
    Status: string;
    Running: boolean;
    Paused: boolean;
    OOMKilled: boolean;
    ExitCode: number;
    Pid: number;
  };
  HostConfig: Record<string, unknown>;
}

export async function inspect(engine: TestEngine, name: string): Promise<Inspected> {
  const result = await engine.gantry(['inspect', '--type', 'container', name]);
  if (result.exitCode !== 0) throw new Error(`inspect ${name} failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as Inspected[])[0] as Inspected;
}

/** `gantry run -d ...`; returns the id (and fails the test with gantry's message otherwise). */
export async function runDetached(engine: TestEngine, args: readonly string[]): Promise<string> {
  const result = await engine.gantry(['run', '-d', ...args]);
  if (result.exitCode !== 0) throw new Error(`gantry run -d ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

export interface EventLog {
  events: EngineEvent[];
  /** Resolves with the first event that matches, waiting up to `timeoutMs`. */
  next(match: (event: EngineEvent) => boolean, timeoutMs?: number): Promise<EngineEvent>;
  stop(): Promise<void>;
}

/**
 * Starts `gantry events ARGS` and resolves once it watches (its trace line says so, after it took
 * the baseline), so events made from now on are in its output.
 */
export async function watchEvents(
  engine: TestEngine,
  args: readonly string[],
): Promise<{ output: () => string; stop: () => Promise<string> }> {
  const child = engine.spawn(['events', ...args], {
    env: { ...engine.env, GANTRY_TRACE: '1' },
    stdin: 'ignore',
    buffer: false,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  const ended = child.then((result) => result);
  await Promise.race([
    waitFor(() => stderr.includes('events: watching'), 60_000, '`gantry events` to watch'),
    ended.then(() => {
      throw new Error(`gantry events ended before it watched: ${stderr}`);
    }),
  ]);
  return {
    output: () => stdout,
    async stop() {
      child.kill('SIGTERM');
      const result = await ended;
      if (result.exitCode !== 0) throw new Error(`gantry events exited ${result.exitCode}: ${stderr}`);
      return stdout;
    },
  };
}

/** Runs `gantry events --json` (watching when this resolves) and collects what it prints. */
export async function collectEvents(engine: TestEngine): Promise<EventLog> {
  const events: EngineEvent[] = [];
  const watcher = await watchEvents(engine, ['--json']);
  let parsed = 0;
  const update = () => {
    const lines = watcher.output().split('\n');
    // The last piece is a line still being written.
    for (; parsed < lines.length - 1; parsed += 1) {
      const line = lines[parsed] as string;
      if (line.trim()) events.push(JSON.parse(line) as EngineEvent);
    }
    return events;
  };
  return {
    get events() {
      return update();
    },
    next: (match, timeoutMs = 60_000) => waitFor(() => update().find(match), timeoutMs, 'an event'),
    async stop() {
      await watcher.stop();
      update();
    },
  };
}

/**
 * The whole-disk block device holding `directory` (throttles apply to disks, not partitions), or
 * the reason there is none (tmpfs, overlay, a device node missing from /dev).
 */
export function blockDeviceOf(directory: string): { device: string } | { reason: string } {
  const { major, minor } = splitDeviceNumber(fs.statSync(directory).dev);
  let sys = `/sys/dev/block/${major}:${minor}`;
  if (!fs.existsSync(sys)) {
    return {
      reason: `${directory} is on ${major}:${minor}, which is not a block device (a virtual filesystem)`,
    };
  }
  if (fs.existsSync(path.join(sys, 'partition'))) {
    sys = path.join(fs.realpathSync(sys), '..');
  }
  const [diskMajor, diskMinor] = fs
    .readFileSync(path.join(fs.realpathSync(sys), 'dev'), 'utf8')
    .trim()
    .split(':');
  const name = path.basename(fs.realpathSync(sys));
  const candidate = path.join('/dev', name);
  try {
    const stat = fs.statSync(candidate);
    const numbers = splitDeviceNumber(stat.rdev);
    if (stat.isBlockDevice() && String(numbers.major) === diskMajor && String(numbers.minor) === diskMinor) {
      return { device: candidate };
    }
  } catch {
    // fall through
  }
  return { reason: `the disk ${name} (${diskMajor}:${diskMinor}) of ${directory} has no node ${candidate}` };
}
