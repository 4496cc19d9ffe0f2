/**
 * What the runtime spec requires of namespaces and the root's propagation, which gantry-oci got
 * wrong: rootfsPropagation "shared" (pivot_root needs the root's parent mount private), a mount
 * namespace joined by path (the exec fifo opened before the change), a uts namespace joined by
 * path that takes the hostname, and a bundle with no namespaces at all (every one inherited). And
 * the session keyring, which the kernel does not namespace: the process gets one of its own, as
 * under runc, unless the caller asks for --no-new-keyring, and what exec starts joins the same.
 */
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { testName, waitFor } from '../../support/engine.js';
import { editSpec, makeOciBundle, ociRunner, ociSuiteNeeds, tearDownOci } from '../../support/oci-bundle.js';
import { describeUnless, needsCommand } from '../../support/skip.js';
import { buildAttackTool } from '../../security/support.js';

/** The lines of a mountinfo by mount id (its first field). */
const mountsById = (mountinfo: string) =>
  new Map(
    mountinfo
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.split(' ')[0]!, line]),
  );

/** "SERIAL DESCRIPTION" of the session keyring in attack.c's `keyring` output. */
const sessionKeyring = (output: string) => /^session-keyring (\d+ \S+)$/m.exec(output)?.[1];

describeUnless([...ociSuiteNeeds(), needsCommand('unshare', 'util-linux')], 'gantry-oci namespaces', () => {
  let base: string;
  let bundle: string;
  let stateRoot: string;
  let original: string;
  const cgroupParent = testName(`oci-ns-${process.pid}`);
  const oci = ociRunner(() => ({ base, bundle, stateRoot }), { GANTRY_CGROUP_PARENT: cgroupParent });
  const holders: ChildProcess[] = [];

  /** A process in namespaces of its own (made by unshare), whose /proc/PID/ns the bundle joins. */
  async function namespaceHolder(flags: string[]): Promise<number> {
    const child = spawn('unshare', [...flags, 'sleep', '600'], { stdio: 'ignore' });
    holders.push(child);
    // unshare execs sleep in place: the pid is the holder's once its namespace differs from ours.
    const kind = flags.includes('--uts') ? 'uts' : 'mnt';
    await waitFor(
      () => {
        try {
          return (
            fs.readlinkSync(`/proc/${child.pid}/ns/${kind}`) !== fs.readlinkSync(`/proc/self/ns/${kind}`)
          );
        } catch {
          return undefined;
        }
      },
      60_000,
      'the namespace holder',
    );
    return child.pid!;
  }

  beforeAll(async () => {
    ({ base, bundle, stateRoot } = await makeOciBundle('oci-ns', ['readlink']));
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
    });
    original = fs.readFileSync(`${bundle}/config.json`, 'utf8');
  });

  afterEach(() => {
    fs.writeFileSync(`${bundle}/config.json`, original);
    for (const holder of holders.splice(0)) holder.kill('SIGKILL');
  });

  afterAll(async () => {
    expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
  });

  it('runs with rootfsPropagation "shared": the new root is shared, the host\'s mounts untouched', async () => {
    const hostMounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    editSpec(bundle, (spec) => {
      spec.linux.rootfsPropagation = 'shared';
      spec.process.args = ['cat', '/proc/self/mountinfo'];
    });
    const result = await oci('run', '--bundle', bundle, 'shared');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    // The line of the container's "/" (field 5, the mount point).
    const root = result.stdout.split('\n').find((line) => line.split(' ')[4] === '/');
    expect(root).toMatch(/ shared:\d+/);
    // Other suites add and remove mounts of their own meanwhile (network namespaces under
    // /run/netns): every mount here before and after is as it was (its propagation too), and no
    // mount of the container's showed up here.
    const hostMountsAfter = mountsById(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    const hostMountsBefore = mountsById(hostMounts);
    for (const [id, line] of hostMountsAfter) {
      if (hostMountsBefore.has(id)) expect(line).toBe(hostMountsBefore.get(id));
      else expect(line.split(' ')[4]).not.toContain(base);
    }
  });

  it('joins a mount namespace given by path', async () => {
    const holder = await namespaceHolder(['--mount', '--propagation', 'private']);
    editSpec(bundle, (spec) => {
      spec.linux.namespaces = spec.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'mount' ? { type: 'mount', path: `/proc/${holder}/ns/mnt` } : ns,
      );
      spec.process.args = ['sh', '-c', 'echo in the joined namespace'];
    });
    const result = await oci('run', '--bundle', bundle, 'mnt-joined');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('in the joined namespace\n');
    expect(result.exitCode).toBe(0);
  });

  it('sets the hostname of a uts namespace joined by path', async () => {
    const holder = await namespaceHolder(['--uts']);
    const hostHostname = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8');
    editSpec(bundle, (spec) => {
      spec.hostname = 'joined-uts';
      spec.linux.namespaces = spec.linux.namespaces.map((ns: { type: string }) =>
        ns.type === 'uts' ? { type: 'uts', path: `/proc/${holder}/ns/uts` } : ns,
      );
      spec.process.args = ['hostname'];
    });
    const result = await oci('run', '--bundle', bundle, 'uts-joined');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('joined-uts\n');
    // The holder's namespace has it; ours does not.
    expect((await execa('nsenter', ['-t', String(holder), '-u', 'hostname'])).stdout).toBe('joined-uts');
    expect(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8')).toBe(hostHostname);
  });

  it("joins a session keyring of its own (_ses.ID), and keeps the caller's with --no-new-keyring", async () => {
    editSpec(bundle, (spec) => {
      // runc's spec masks /proc/keys: the list of keyrings the process can see is what is looked at.
      spec.linux.maskedPaths = spec.linux.maskedPaths.filter((p: string) => p !== '/proc/keys');
      spec.process.args = ['cat', '/proc/keys'];
    });
    const own = await oci('run', '--bundle', bundle, 'own-keyring');
    expect(own.exitCode, own.stderr).toBe(0);
    expect(own.stdout).toMatch(/ keyring +_ses\.own-keyring: /);
    const kept = await oci('run', '--no-new-keyring', '--bundle', bundle, 'kept-keyring');
    expect(kept.exitCode, kept.stderr).toBe(0);
    expect(kept.stdout).not.toContain('_ses.kept-keyring');
  });

  it('a process gantry-oci exec starts joins the container’s keyring (the caller’s with --no-new-keyring)', async () => {
    const tools = buildAttackTool();
    try {
      fs.copyFileSync(path.join(tools, 'attack'), path.join(bundle, 'rootfs', 'attack'));
    } finally {
      fs.rmSync(tools, { recursive: true, force: true });
    }
    fs.chmodSync(path.join(bundle, 'rootfs', 'attack'), 0o755);
    // The test's own session keyring, which gantry-oci's caller (this process) holds.
    const caller = sessionKeyring((await execa(path.join(bundle, 'rootfs', 'attack'), ['keyring'])).stdout);
    expect(caller).toBeDefined();
    editSpec(bundle, (spec) => {
      spec.process.args = ['sleep', '600'];
    });
    for (const [id, flags] of [
      ['exec-own', []],
      ['exec-kept', ['--no-new-keyring']],
    ] as const) {
      expect((await oci('create', ...flags, '--bundle', bundle, id)).exitCode).toBe(0);
      expect((await oci('start', id)).exitCode).toBe(0);
      const execs = [];
      for (const user of [[], ['--user', '1000:1000']]) {
        const exec = await oci('exec', ...user, id, '/attack', 'keyring');
        expect(exec.exitCode, exec.stderr).toBe(0);
        execs.push(sessionKeyring(exec.stdout));
      }
      if (flags.length === 0) {
        // Both in the keyring the init joined (one serial), named after the container.
        expect(execs[0]).toMatch(new RegExp(`^\\d+ _ses\\.${id}$`));
        expect(execs[1]).toBe(execs[0]);
        expect(execs[0]).not.toBe(caller);
      } else {
        // runc's --no-new-keyring: the caller's (for another uid without a session keyring of the
        // caller's, the kernel answers with that uid's own user-session keyring).
        expect(execs[0]).toBe(caller);
        expect(execs[1]).not.toMatch(/_ses\.exec-kept$/);
      }
      expect((await oci('delete', '--force', id)).exitCode).toBe(0);
    }
  });

  it('inherits every namespace when the bundle lists none', async () => {
    const kinds = ['mnt', 'pid', 'net', 'uts', 'ipc'];
    editSpec(bundle, (spec) => {
      spec.linux.namespaces = [];
      spec.linux.maskedPaths = [];
      spec.linux.readonlyPaths = [];
      spec.hostname = undefined;
      spec.process.args = ['sh', '-c', `for ns in ${kinds.join(' ')}; do readlink /proc/self/ns/$ns; done`];
    });
    const result = await oci('run', '--bundle', bundle, 'inherits');
    expect(result.exitCode).toBe(0);
    // The runtime's own namespaces (the test's, which ran gantry-oci).
    expect(result.stdout.trim().split('\n')).toEqual(
      kinds.map((kind) => fs.readlinkSync(`/proc/self/ns/${kind}`)),
    );
    expect(result.stderr).toContain('mounts are not made without a mount namespace');
    // maskedPaths cannot be honoured then: refused, as runc refuses it.
    editSpec(bundle, (spec) => {
      spec.linux.maskedPaths = ['/proc/kcore'];
    });
    const refused = await oci('run', '--bundle', bundle, 'inherits-masked');
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('linux.maskedPaths and linux.readonlyPaths need a mount namespace');
  });
});
