/**
 * Integration tests run the real `gantry` binary against a private state root and cgroup
 * parent. Cleaning up removes every container through gantry itself, then records what gantry
 * left (cgroup directories of the parent in any hierarchy, mounts under the root) before it
 * removes that by hand, and fails when there was anything: a harness that cleaned first would
 * hide the very leaks it is there to find.
 */
import { execa, type Options, type ResultPromise } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { cgroupDirectories, cgroupTree, killCgroupProcesses, removeCgroupTree } from './cgroup-paths.js';

export { cgroupDirectories, cgroupMountPoints } from './cgroup-paths.js';

export const REPO = path.resolve(import.meta.dirname, '..', '..');
export const GANTRY = path.join(REPO, 'bin', 'gantry.js');
export const GANTRY_OCI = path.join(REPO, 'bin', 'gantry-oci.js');
export const HELPER = path.join(REPO, 'dist', 'bin', 'gantry-init');

export const isRoot = process.getuid?.() === 0;

/**
 * A name for something a test makes on the host (a temporary directory, a cgroup parent):
 * `gantry-test-<run tag>-<label>`. The run tag (set by the global setup) keeps concurrent test
 * runs apart in the teardown's leak check.
 */
export function testName(label: string): string {
  return `gantry-test-${process.env.GANTRY_TEST_RUN ?? 'x'}-${label}`;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface TestEngine {
  root: string;
  cgroupParent: string;
  /**
   * The engine's environment. Commands given it directly run in the test's own network
   * namespace only through `engine.gantry`/`engine.spawn`; anything else gets --network none by
   * default (GANTRY_DEFAULT_NETWORK=none of the integration project), so no bridge is ever made
   * in the host's namespace.
   */
  env: Record<string, string>;
  /** The network namespace (`ip netns` name) every `gantry` of this engine runs in. */
  netns: string;
  /** Runs a command inside the engine's network namespace (never rejects on failure). */
  inNetns(file: string, args: readonly string[], options?: Options): Promise<RunResult>;
  /** Runs `gantry ARGS` and resolves with its output and status (never rejects on failure). */
  gantry(args: readonly string[], options?: Options): Promise<RunResult>;
  /** Starts `gantry ARGS` and returns the process (for streaming and kill tests). */
  spawn(args: readonly string[], options?: Options): ResultPromise;
  /**
   * Removes every container with `gantry rm -f`, then fails (after removing them by hand) if
   * gantry left a cgroup directory of the engine's parent or a mount under its root.
   */
  cleanup(): Promise<void>;
}

/**
 * A network namespace of the test's own (`ip netns add`), its lo up: the bridge, veths, rules and
 * containers of the engine live there, never in the host's namespace.
 */
export async function createTestNetns(label: string): Promise<string> {
  const name = testName(`${label}-${Math.random().toString(16).slice(2, 8)}`);
  await execa('ip', ['netns', 'add', name]);
  await execa('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export async function deleteTestNetns(name: string): Promise<void> {
  await execa('ip', ['netns', 'delete', name], { reject: false });
}

function runResult(result: { stdout?: unknown; stderr?: unknown; exitCode?: number }): RunResult {
  return {
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    exitCode: result.exitCode ?? 128,
  };
}

/**
 * What gantry's networking left in a test namespace once every container is gone: its bridges
 * and veths, its nftables table or iptables chains, and leases in the state file.
 */
export async function networkLeftovers(netns: string, root: string): Promise<string[]> {
  const inside = async (file: string, args: string[]) =>
    String(
      (await execa('nsenter', [`--net=/run/netns/${netns}`, '--', file, ...args], { reject: false }))
        .stdout ?? '',
    );
  const left: string[] = [];
  for (const line of (await inside('ip', ['-o', 'link', 'show'])).split('\n')) {
    const name = line.split(': ')[1]?.split('@')[0] ?? '';
    if (/^(gantry\d+|gtv[0-9a-f]{12})$/.test(name)) left.push(`interface ${name}`);
  }
  if ((await inside('nft', ['list', 'ruleset'])).includes('table ip gantry'))
    left.push('nftables table ip gantry');
  for (const chain of new Set((await inside('iptables-save', [])).match(/GANTRY-[A-Z]+/g) ?? []))
    left.push(`iptables chain ${chain}`);
  try {
    const state = JSON.parse(fs.readFileSync(path.join(root, 'networks', 'state.json'), 'utf8')) as {
      containers: Record<string, unknown>;
    };
    for (const id of Object.keys(state.containers)) left.push(`network lease of container ${id}`);
  } catch {
    // no network state: nothing leased
  }
  return left;
}

export interface TestEngineOptions {
  /**
   * Run gantry in the host's network namespace (to reach a server the test runs on the host's
   * 127.0.0.1, such as a registry). Its containers then default to --network none; none of its
   * tests may ask for a bridge.
   */
  hostNetwork?: boolean;
  /** A state root of the test's own (e.g. on a small tmpfs it mounted); made if missing. */
  root?: string;
}

export async function createTestEngine(
  label = 'engine',
  options: TestEngineOptions = {},
): Promise<TestEngine> {
  const root = options.root ?? fs.mkdtempSync(path.join(os.tmpdir(), `${testName(label)}-`));
  if (options.root) fs.mkdirSync(root, { recursive: true });
  const tag = options.root
    ? `${label}-${Math.random().toString(16).slice(2, 8)}`
    : path.basename(root).slice(-6);
  const cgroupParent = testName(tag);
  const netns = options.hostNetwork ? '' : await createTestNetns(tag);
  const env = { GANTRY_ROOT: root, GANTRY_CGROUP_PARENT: cgroupParent };
  // Inside the namespace the product's default (the bridge network) applies again.
  const netnsEnv = netns ? { ...env, GANTRY_DEFAULT_NETWORK: '' } : env;
  const enter = netns ? ['--net=/run/netns/' + netns, '--'] : ['--'];
  const inNetns = async (file: string, args: readonly string[], options: Options = {}): Promise<RunResult> =>
    runResult(
      await execa('nsenter', [...enter, file, ...args], {
        reject: false,
        stripFinalNewline: false,
        stdin: 'ignore',
        ...options,
      }),
    );
  const gantry = async (args: readonly string[], options: Options = {}): Promise<RunResult> => {
    const stdin =
      options.input === undefined && options.inputFile === undefined ? { stdin: 'ignore' as const } : {};
    return runResult(
      await execa('nsenter', [...enter, GANTRY, ...args], {
        env: netnsEnv,
        reject: false,
        stripFinalNewline: false,
        ...stdin,
        ...options,
      }),
    );
  };
  return {
    root,
    cgroupParent,
    env,
    netns,
    inNetns,
    gantry,
    spawn: (args, options = {}) =>
      execa('nsenter', [...enter, GANTRY, ...args], { env: netnsEnv, reject: false, ...options }),
    async cleanup() {
      try {
        const listed = await gantry(['ps', '-aq', '--no-trunc']);
        // ps skips containers whose record is damaged (a fault test that failed midway): rm -f
        // is their remedy too.
        const stored = fs.existsSync(path.join(root, 'containers'))
          ? fs.readdirSync(path.join(root, 'containers')).filter((name) => /^[0-9a-f]{64}$/.test(name))
          : [];
        const failedRemovals: string[] = [];
        for (const id of new Set([...listed.stdout.split('\n').filter(Boolean), ...stored])) {
          const removed = await gantry(['rm', '-f', id]);
          // One that went meanwhile (--rm) is no failure.
          if (removed.exitCode !== 0 && fs.existsSync(path.join(root, 'containers', id)))
            failedRemovals.push(`gantry rm -f ${id}: ${removed.stderr.trim()}`);
        }
        // What gantry left, recorded before anything is removed by hand.
        const leftCgroups = cgroupDirectories(cgroupParent).flatMap(cgroupTree);
        const leftMounts = mountsUnder(root);
        const leftNetwork = netns ? await networkLeftovers(netns, root) : [];
        for (const dir of cgroupDirectories(cgroupParent)) killCgroupProcesses(dir);
        for (const dir of cgroupDirectories(cgroupParent)) removeCgroupTree(dir);
        fs.rmSync(root, { recursive: true, force: true });
        const leaks = [
          ...failedRemovals,
          ...leftCgroups.map((dir) => `cgroup ${dir}`),
          ...leftMounts.map((mount) => `mount ${mount}`),
          ...leftNetwork,
        ];
        if (leaks.length > 0) {
          throw new Error(`gantry left these behind after removing every container:\n${leaks.join('\n')}`);
        }
      } finally {
        if (netns) await deleteTestNetns(netns);
      }
    },
  };
}

/** A test engine with the from-host image imported as "demo". */
export async function createEngineWithImage(
  label?: string,
  options?: TestEngineOptions,
): Promise<TestEngine> {
  const engine = await createTestEngine(label, options);
  const result = await engine.gantry(['image', 'from-host', 'demo']);
  if (result.exitCode !== 0) {
    await engine.cleanup().catch(() => undefined);
    throw new Error(`gantry image from-host failed: ${result.stderr}`);
  }
  return engine;
}

/**
 * The engine (with the demo image) of the enclosing describe: made before its tests, cleaned up
 * after them, and the cleanup must leave no cgroup behind. It is usable inside tests and hooks
 * registered after this call, not while the suite is being collected.
 */
export function engineForSuite(label: string): TestEngine {
  let engine: TestEngine | undefined;
  beforeAll(async () => {
    engine = await createEngineWithImage(label);
  });
  afterAll(async () => {
    if (!engine) return;
    await engine.cleanup();
    // cleanup() has failed on anything gantry left; this is what the hand-cleaning left.
    expect(cgroupDirectories(engine.cgroupParent)).toEqual([]);
  });
  const current = (): TestEngine => {
    if (!engine) throw new Error(`the ${label} test engine is made in beforeAll`);
    return engine;
  };
  return {
    get root() {
      return current().root;
    },
    get cgroupParent() {
      return current().cgroupParent;
    },
    get env() {
      return current().env;
    },
    get netns() {
      return current().netns;
    },
    inNetns: (file, args, options) => current().inNetns(file, args, options),
    gantry: (args, options) => current().gantry(args, options),
    spawn: (args, options) => current().spawn(args, options),
    cleanup: () => current().cleanup(),
  };
}

export function mountsUnder(prefix: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((target) => target.startsWith(prefix));
}

/** The state letter of process `pid` (R, S, T for stopped, Z...), undefined once it is gone. */
export function processState(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
  } catch {
    return undefined;
  }
}

/**
 * Resolves once process `pid` has a handler for signal number `signal` (its bit in SigCgt of
 * /proc/PID/status): a shell's `trap` is in place, so a signal sent now meets it.
 */
export async function waitForHandler(pid: number, signal: number): Promise<void> {
  await waitFor(
    () => {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const caught = BigInt(`0x${/^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`);
      return ((caught >> BigInt(signal - 1)) & 1n) === 1n || undefined;
    },
    60_000,
    `process ${pid} to handle signal ${signal}`,
  );
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<T> {
  // Deadlines stretch with GANTRY_TEST_TIME_SCALE, as vitest's timeouts do (vitest.config.ts).
  const deadline = Date.now() + timeoutMs * Math.max(1, Number(process.env.GANTRY_TEST_TIME_SCALE) || 1);
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
