/* eslint-disable @typescript-eslint/no-explicit-any -- tests edit arbitrary spec fields */
/**
 * SELinux, where the kernel runs it: the third boot of the cgroup v2 guest (`npm run
 * test:cgroup-v2`), with security=selinux and Debian's selinux-policy-default loaded in permissive
 * mode. This host's kernel has no SELinux, so here the suite says why it does not run. The labels
 * asserted are the ones the kernel reports: /proc/PID/attr/current for a process (its label from
 * its execve on), the security.selinux attribute of a filesystem's root (`stat -c %C`) for a mount.
 *
 * A gantry-oci bundle's process.selinuxLabel and linux.mountLabel, the label of a process
 * `gantry-oci exec` starts (the container's, or --process-label's), `gantry run --security-opt
 * label=...` (docker's flag: its root, /dev and /dev/shm labelled too, a level of its own unless one
 * is given), label=disable (unlabelled), and labels the policy does not define (refused, nothing
 * made). And the helper holding the attribute files it writes those labels through is out of the
 * container's reach while it waits to write them.
 */
import { execa } from 'execa';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selinuxEnabled } from '../../source/runtime/spec/security-modules.js';
import { requireOrSkip } from '../support/cgroup-v2.js';
import { engineForSuite, testName, waitFor } from '../support/engine.js';
import { editSpec, makeOciBundle, ociRunner, ociSuiteNeeds, tearDownOci } from '../support/oci-bundle.js';
import { firstCause, needsCommand } from '../support/skip.js';
import { attackAttributeHolder, buildAttackTool } from './support.js';

/** Types of Debian's default policy (its lxc_contexts names container_t, which it does not define). */
const PROCESS = 'system_u:system_r:svirt_t:s0:c11,c22';
const MOUNT = 'system_u:object_r:svirt_image_t:s0:c11,c22';
const OTHER_PROCESS = 'system_u:system_r:svirt_t:s0:c33,c44';
const UNDEFINED = 'system_u:system_r:gantry_no_such_t:s0';
const TYPE_OPTIONS = [
  '--security-opt',
  'label=type:svirt_t',
  '--security-opt',
  'label=filetype:svirt_image_t',
];
/** What the container's own filesystems are, below its root. */
const MADE_FOR_IT = ['/dev', '/dev/shm', '/dev/mqueue', '/dev/pts', '/sys/firmware'];

const cause = firstCause(
  ...ociSuiteNeeds(),
  needsCommand('load_policy', 'policycoreutils'),
  selinuxEnabled()
    ? undefined
    : 'this kernel does not run SELinux; `GANTRY_V2VM_MODES=selinux npm run test:cgroup-v2` runs this file in the cgroup v2 guest booted with security=selinux',
);

function describeWithSelinux(name: string, body: () => void): void {
  if (!cause) {
    describe(name, body);
    return;
  }
  describe(name, () => {
    it('runs where the kernel runs SELinux', (context) => requireOrSkip(context, cause));
  });
}

/** A label as /proc gives it (SELinux ends it with a NUL). */
const clean = (text: string) => text.replace(/\0/g, '').trim();
const labelOf = (pid: number | 'self') => clean(fs.readFileSync(`/proc/${pid}/attr/current`, 'utf8'));
/** The label of a file or a filesystem's root, as the kernel reports it (security.selinux). */
const fileLabel = async (file: string) => (await execa('stat', ['-c', '%C', file])).stdout.trim();

describeWithSelinux('SELinux labels', () => {
  let base: string;
  let bundle: string;
  let stateRoot: string;
  const secret = `gantry-secret-${crypto.randomBytes(8).toString('hex')}`;
  const cgroupParent = testName(`selinux-${process.pid}`);
  const env = { GANTRY_CGROUP_PARENT: cgroupParent };
  const oci = ociRunner(() => ({ base, bundle, stateRoot }), env);
  const engine = engineForSuite('selinux');
  /** What the tests (and so gantry) run as: an unlabelled container's process keeps it. */
  const own = labelOf('self');

  beforeAll(async () => {
    ({ base, bundle, stateRoot } = await makeOciBundle('selinux'));
    const tools = buildAttackTool();
    fs.copyFileSync(path.join(tools, 'attack'), path.join(bundle, 'rootfs', 'attack'));
    fs.chmodSync(path.join(bundle, 'rootfs', 'attack'), 0o755);
    fs.rmSync(tools, { recursive: true, force: true });
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = ['sh', '-c', 'cat /proc/self/attr/current'];
    });
  });

  afterAll(async () => {
    expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
  });

  /** The host pid of a started container's process, once it has exec'd `program`. */
  const startedPid = async (id: string, program: string) => {
    const state = await oci('state', id);
    expect(state.exitCode, state.stderr).toBe(0);
    const pid = (JSON.parse(state.stdout) as { pid: number }).pid;
    await waitFor(
      () => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(program),
      60_000,
      'its exec',
    );
    return pid;
  };

  it('a bundle’s process.selinuxLabel labels its process from its execve; linux.mountLabel its /dev, /dev/shm, /dev/mqueue, /dev/pts and masks', async () => {
    // Control: without a label the process keeps gantry's own.
    const free = await oci('run', '--bundle', bundle, 'unlabelled');
    expect(free.exitCode, free.stderr).toBe(0);
    expect(clean(free.stdout)).toBe(own);
    expect(own).not.toBe(PROCESS);

    editSpec(bundle, (spec) => {
      spec.process.selinuxLabel = PROCESS;
      spec.linux.mountLabel = MOUNT;
    });
    const labelled = await oci('run', '--bundle', bundle, 'labelled-run');
    expect(labelled.exitCode, labelled.stderr).toBe(0);
    expect(clean(labelled.stdout)).toBe(PROCESS);

    editSpec(bundle, (spec) => {
      spec.process.args = ['sleep', '600'];
    });
    expect((await oci('create', '--bundle', bundle, 'labelled')).exitCode).toBe(0);
    expect((await oci('start', 'labelled')).exitCode).toBe(0);
    const pid = await startedPid('labelled', 'sleep');
    expect(labelOf(pid)).toBe(PROCESS);
    for (const mount of MADE_FOR_IT) expect(await fileLabel(`/proc/${pid}/root${mount}`), mount).toBe(MOUNT);
    // The kernel labels procfs itself; runc gives it no context= and neither does gantry.
    expect(await fileLabel(`/proc/${pid}/root/proc`)).not.toBe(MOUNT);
  });

  it('a process gantry-oci exec starts has the container’s label, or --process-label’s, as with runc', async () => {
    const plain = await oci('exec', 'labelled', 'cat', '/proc/self/attr/current');
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(clean(plain.stdout)).toBe(PROCESS);
    const flagged = await oci(
      'exec',
      '--process-label',
      OTHER_PROCESS,
      'labelled',
      'cat',
      '/proc/self/attr/current',
    );
    expect(flagged.exitCode, flagged.stderr).toBe(0);
    expect(clean(flagged.stdout)).toBe(OTHER_PROCESS);
    // A --process file (podman's exec) that names no label: the container's (runc's newInitConfig).
    const processFile = path.join(base, 'process.json');
    fs.writeFileSync(
      processFile,
      JSON.stringify({
        args: ['cat', '/proc/self/attr/current'],
        cwd: '/',
        user: { uid: 0, gid: 0 },
        env: ['PATH=/bin'],
      }),
    );
    const fromFile = await oci('exec', '--process', processFile, 'labelled');
    expect(fromFile.exitCode, fromFile.stderr).toBe(0);
    expect(clean(fromFile.stdout)).toBe(PROCESS);
  });

  it('the helper holding the exec and keycreate attributes before its execve is out of the container’s reach', async () => {
    const held = await attackAttributeHolder({
      id: 'labelled',
      stateRoot,
      env,
      execFlags: ['--process-label', OTHER_PROCESS],
      secret,
    });
    expect(held.sort()).toEqual(['exec', 'keycreate']);
    expect((await oci('delete', '--force', 'labelled')).exitCode).toBe(0);
  });

  it('a label the loaded policy does not define fails create naming the field, leaving nothing', async () => {
    for (const [field, edit] of [
      ['process.selinuxLabel', (spec: Record<string, any>) => (spec.process.selinuxLabel = UNDEFINED)],
      [
        'linux.mountLabel',
        (spec: Record<string, any>) => (spec.linux.mountLabel = UNDEFINED.replace('system_r', 'object_r')),
      ],
    ] as const) {
      editSpec(bundle, (spec) => {
        spec.process.selinuxLabel = PROCESS;
        spec.linux.mountLabel = MOUNT;
        spec.process.args = ['true'];
        edit(spec);
      });
      const result = await oci('create', '--bundle', bundle, 'undefined-label');
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`${field} "`);
      expect(result.stderr).toContain('is not a context the loaded SELinux policy defines');
      expect(fs.existsSync(path.join(stateRoot, 'undefined-label'))).toBe(false);
    }
  });

  it('gantry run --security-opt label=level:s0:c1,c2 labels the process, exec’d ones, its root and /dev/shm; inspect shows both labels', async () => {
    const name = 'label-level';
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'none',
      ...TYPE_OPTIONS,
      '--security-opt',
      'label=level:s0:c1,c2',
      'demo',
      'sleep',
      '1000',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const [inspected] = JSON.parse((await engine.gantry(['inspect', name])).stdout) as [
      { ProcessLabel: string; MountLabel: string; State: { Pid: number } },
    ];
    expect(inspected.ProcessLabel).toBe('system_u:system_r:svirt_t:s0:c1,c2');
    expect(inspected.MountLabel).toBe('system_u:object_r:svirt_image_t:s0:c1,c2');
    const pid = inspected.State.Pid;
    await waitFor(
      () => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'),
      60_000,
      'its exec',
    );
    expect(labelOf(pid)).toBe(inspected.ProcessLabel);
    for (const mount of ['/', '/dev', '/dev/shm'])
      expect(await fileLabel(`/proc/${pid}/root${mount}`), mount).toBe(inspected.MountLabel);
    const exec = await engine.gantry(['exec', name, 'cat', '/proc/self/attr/current']);
    expect(exec.exitCode, exec.stderr).toBe(0);
    expect(clean(exec.stdout)).toBe(inspected.ProcessLabel);
    expect((await engine.gantry(['rm', '-f', name])).exitCode).toBe(0);
  });

  it('without a level each container gets one of its own, two categories, for the process and the mounts alike', async () => {
    const levels: string[] = [];
    for (const name of ['label-own-1', 'label-own-2']) {
      const run = await engine.gantry([
        'create',
        '--name',
        name,
        '--network',
        'none',
        ...TYPE_OPTIONS,
        'demo',
        'true',
      ]);
      expect(run.exitCode, run.stderr).toBe(0);
      const [inspected] = JSON.parse((await engine.gantry(['inspect', name])).stdout) as [
        { ProcessLabel: string; MountLabel: string },
      ];
      const [, low, high] = /^system_u:system_r:svirt_t:s0:c(\d+),c(\d+)$/.exec(inspected.ProcessLabel) ?? [];
      expect(Number(low), inspected.ProcessLabel).toBeLessThan(Number(high));
      expect(inspected.MountLabel).toBe(`system_u:object_r:svirt_image_t:s0:c${low},c${high}`);
      levels.push(`${low},${high}`);
    }
    expect(levels[0]).not.toBe(levels[1]);
    expect((await engine.gantry(['rm', 'label-own-1', 'label-own-2'])).exitCode).toBe(0);
  });

  it('label=disable, as no label option, runs unlabelled', async () => {
    for (const options of [['--security-opt', 'label=disable'], []]) {
      const run = await engine.gantry([
        'run',
        '--rm',
        '--network',
        'none',
        ...options,
        'demo',
        'cat',
        '/proc/self/attr/current',
      ]);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(clean(run.stdout), options.join(' ')).toBe(own);
    }
  });

  it('a label option the policy has no type for fails run with the label, leaving no container', async () => {
    const name = 'label-undefined';
    const run = await engine.gantry([
      'run',
      '--rm',
      '--name',
      name,
      '--network',
      'none',
      '--security-opt',
      'label=type:gantry_no_such_t',
      'demo',
      'true',
    ]);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain('gantry_no_such_t');
    expect(run.stderr).toContain('is not a context the loaded SELinux policy defines');
    const left = await engine.gantry(['ps', '-a', '-q', '--filter', `name=${name}`]);
    expect(left.stdout.trim()).toBe('');
  });
});
