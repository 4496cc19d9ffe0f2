/**
 * What a killed test run leaves on the host, and the sweep that removes it. A run stopped by
 * SIGKILL (a CI job cancelled, a session that ended) never reaches its teardown: its containers'
 * monitors keep running, and its network namespaces, cgroup parents, overlay mounts and state roots
 * stay. Every one of those carries the run's tag (`gantry-test-<tag>-...`, see testName), so each
 * run records its tag with the PID and start time of the process that owns it, and the next run's
 * global setup sweeps the tags whose owner is gone. A run still alive (another checkout's tests at
 * the same time) is never touched; neither is anything without a tag.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupMountPoints, killCgroupProcesses, removeCgroupTree } from './cgroup-paths.js';

export const RUNS_DIR = '/run/gantry-test-runs';
const NETNS_DIR = '/run/netns';

/** Field 22 of /proc/PID/stat (clock ticks after boot): with the PID, it names one process. */
export function processStartTime(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Records that run `tag` belongs to process `pid` (this process by default) while it is alive. */
export function recordRun(tag: string, pid = process.pid, runsDir = RUNS_DIR): void {
  fs.mkdirSync(runsDir, { recursive: true, mode: 0o700 });
  const file = path.join(runsDir, tag);
  fs.writeFileSync(`${file}.tmp`, `${pid} ${processStartTime(pid) ?? ''}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

export function forgetRun(tag: string, runsDir = RUNS_DIR): void {
  fs.rmSync(path.join(runsDir, tag), { force: true });
}

/** The recorded runs whose owning process has gone (or whose PID now names another process). */
export function deadRuns(runsDir = RUNS_DIR): string[] {
  let tags: string[];
  try {
    tags = fs.readdirSync(runsDir).filter((name) => /^[0-9a-z]+$/.test(name));
  } catch {
    return [];
  }
  return tags.filter((tag) => {
    const [pid, start] = fs.readFileSync(path.join(runsDir, tag), 'utf8').trim().split(' ');
    return !pid || processStartTime(Number(pid)) !== start;
  });
}

function entries(dir: string, prefix: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((name) => name.startsWith(prefix))
      .map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    execFileSync(file, args, { env, stdio: 'ignore', timeout: 120_000 });
    return true;
  } catch {
    return false;
  }
}

/** Mount points at or below `dir`, deepest first. */
function mountsBelow(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((target) => target === dir || target.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Removes what run `tag` left: its containers through `gantry rm -f` (which ends their monitors
 * and releases their network leases, run inside the namespace the engine used), then whatever
 * mounts, cgroups, network namespaces (and the processes still in them: the run's own servers)
 * and temporary files carry the tag. Returns what it removed, for the run's output.
 */
export function sweepRun(tag: string, gantry: string, runsDir = RUNS_DIR, tmp = os.tmpdir()): string[] {
  const prefix = `gantry-test-${tag}-`;
  const removed: string[] = [];
  const namespaces = entries(NETNS_DIR, prefix);
  for (const root of entries(tmp, prefix)) {
    const containers = path.join(root, 'containers');
    const ids = fs.existsSync(containers)
      ? fs.readdirSync(containers).filter((name) => /^[0-9a-f]{64}$/.test(name))
      : [];
    // The engine's namespace is named after the last six characters of its root (createTestEngine).
    const netns = namespaces.find((name) => path.basename(name).startsWith(`${prefix}${root.slice(-6)}-`));
    const env = { ...process.env, GANTRY_ROOT: root, GANTRY_DEFAULT_NETWORK: netns ? '' : 'none' };
    for (const id of ids) {
      const enter = netns ? [`--net=${netns}`] : [];
      if (run('nsenter', [...enter, '--', process.execPath, gantry, 'rm', '-f', id], env))
        removed.push(`container ${id.slice(0, 12)} of ${root}`);
    }
    for (const mount of mountsBelow(root)) if (run('umount', ['-l', mount])) removed.push(`mount ${mount}`);
    // Never a recursive removal across a mount that would not go: it could lead anywhere.
    if (mountsBelow(root).length > 0) continue;
    fs.rmSync(root, { recursive: true, force: true });
    removed.push(root);
  }
  for (const hierarchy of cgroupMountPoints()) {
    for (const dir of entries(hierarchy, `gantry-test-${tag}`)) {
      killCgroupProcesses(dir);
      removeCgroupTree(dir);
      removed.push(`cgroup ${dir}`);
    }
  }
  for (const netns of namespaces) {
    const name = path.basename(netns);
    let pids: string[] = [];
    try {
      pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean);
    } catch {
      // already gone
    }
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (run('ip', ['netns', 'delete', name])) removed.push(`network namespace ${name}`);
  }
  forgetRun(tag, runsDir);
  return removed;
}

/** Sweeps every dead run; returns what went, one line per thing. */
export function sweepDeadRuns(gantry: string, runsDir = RUNS_DIR, tmp = os.tmpdir()): string[] {
  return deadRuns(runsDir).flatMap((tag) => sweepRun(tag, gantry, runsDir, tmp));
}
