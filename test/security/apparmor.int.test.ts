/**
 * AppArmor, where the kernel runs it (the cgroup v2 guest of `npm run test:cgroup-v2`: Debian's
 * kernel enables it; this hybrid host's kernel has no AppArmor, so here the suite says why it does
 * not run). A profile the test loads denies reads of one file; a gantry-oci bundle's
 * process.apparmorProfile, a process `gantry-oci exec` starts in that container (or with
 * `--apparmor`), and `gantry run --security-opt apparmor=PROFILE` must all run confined by it: the kernel names the
 * profile in /proc/self/attr/current and refuses the read with EACCES, which the same container
 * without the profile does not. A profile that is not loaded fails create, leaving nothing. The
 * helper holding the attribute file it writes the profile through is out of the container's reach
 * while it waits to write it.
 */
import { execa } from 'execa';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appArmorEnabled } from '../../source/runtime/spec/security-modules.js';
import { requireOrSkip } from '../support/cgroup-v2.js';
import { engineForSuite, testName, waitFor } from '../support/engine.js';
import { editSpec, makeOciBundle, ociRunner, ociSuiteNeeds, tearDownOci } from '../support/oci-bundle.js';
import { firstCause, needsCommand } from '../support/skip.js';
import { attackAttributeHolder, buildAttackTool } from './support.js';

const SECRET = 'apparmor-guarded-content';
/** Reads its label, then the guarded file; the shell says why a read failed. */
const PROBE = 'cat /proc/self/attr/current; cat /data/secret; echo "read=$?"';

const cause = firstCause(
  ...ociSuiteNeeds(),
  needsCommand('apparmor_parser', 'apparmor'),
  appArmorEnabled()
    ? undefined
    : 'this kernel does not run AppArmor; `npm run test:cgroup-v2 -- test/security/apparmor.int.test.ts` runs this file in the cgroup v2 guest, whose Debian kernel does',
);

/** describe() where AppArmor can be tested; elsewhere one test that skips with the reason (or fails
 * in the guest, where GANTRY_EXPECT_CGROUP=v2 says nothing may be skipped). */
function describeWithAppArmor(name: string, body: () => void): void {
  if (!cause) {
    describe(name, body);
    return;
  }
  describe(name, () => {
    it('runs where the kernel runs AppArmor', (context) => requireOrSkip(context, cause));
  });
}

describeWithAppArmor('AppArmor profiles', () => {
  const profile = testName('aa');
  let base: string;
  let bundle: string;
  let stateRoot: string;
  let profileFile: string;
  let data: string;
  const cgroupParent = testName(`apparmor-${process.pid}`);
  const oci = ociRunner(() => ({ base, bundle, stateRoot }), { GANTRY_CGROUP_PARENT: cgroupParent });
  const engine = engineForSuite('apparmor');

  beforeAll(async () => {
    ({ base, bundle, stateRoot } = await makeOciBundle('apparmor'));
    data = path.join(base, 'data');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'secret'), `${SECRET}\n`, { mode: 0o644 });
    // The same file inside the bundle's root, where the profile's path names it.
    fs.mkdirSync(path.join(bundle, 'rootfs', 'data'));
    fs.copyFileSync(path.join(data, 'secret'), path.join(bundle, 'rootfs', 'data', 'secret'));
    // Everything allowed but reading that one file. attach_disconnected: paths of the container's
    // mount namespace are named from its own root.
    profileFile = path.join(os.tmpdir(), `${profile}.apparmor`);
    fs.writeFileSync(
      profileFile,
      `profile ${profile} flags=(attach_disconnected) {
  file,
  capability,
  network,
  signal,
  unix,
  ptrace,
  mount,
  umount,
  pivot_root,
  deny /data/secret r,
}
`,
    );
    // -K: no cache file written anywhere.
    const loaded = await execa('apparmor_parser', ['-r', '-K', profileFile], { reject: false });
    expect(loaded.exitCode, loaded.stderr).toBe(0);
    const tools = buildAttackTool();
    fs.copyFileSync(path.join(tools, 'attack'), path.join(bundle, 'rootfs', 'attack'));
    fs.chmodSync(path.join(bundle, 'rootfs', 'attack'), 0o755);
    fs.rmSync(tools, { recursive: true, force: true });
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = ['sh', '-c', PROBE];
    });
  });

  afterAll(async () => {
    const left = await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent);
    // Unloaded only now that nothing runs under it.
    if (profileFile) {
      await execa('apparmor_parser', ['-R', '-K', profileFile], { reject: false });
      fs.rmSync(profileFile, { force: true });
    }
    expect(left).toEqual([]);
  });

  it('a bundle’s process.apparmorProfile confines its process: the kernel names the profile and denies the read', async () => {
    // Control: the same bundle without a profile reads the file.
    const free = await oci('run', '--bundle', bundle, 'unconfined');
    expect(free.exitCode, free.stderr).toBe(0);
    expect(free.stdout).toContain(`${SECRET}\nread=0\n`);
    expect(free.stdout).not.toContain(profile);

    editSpec(bundle, (spec) => {
      spec.process.apparmorProfile = profile;
    });
    const confined = await oci('run', '--bundle', bundle, 'confined');
    expect(confined.exitCode, confined.stderr).toBe(0);
    expect(confined.stdout.split('\n')[0]).toBe(`${profile} (enforce)`);
    expect(confined.stdout).not.toContain(SECRET);
    expect(confined.stdout).toContain('read=1\n');
    // busybox cat's message for EACCES.
    expect(confined.stderr).toContain("can't open '/data/secret': Permission denied");
  });

  it('a process gantry-oci exec starts in the container (from flags or a --process file) runs under the same profile; exec --apparmor gives one', async () => {
    editSpec(bundle, (spec) => {
      spec.process.apparmorProfile = profile;
      spec.process.args = ['sleep', '600'];
    });
    expect((await oci('create', '--bundle', bundle, 'execd')).exitCode).toBe(0);
    expect((await oci('start', 'execd')).exitCode).toBe(0);
    const exec = await waitFor(
      async () => {
        const result = await oci('exec', 'execd', 'sh', '-c', PROBE);
        return result.stdout.includes('read=') ? result : undefined;
      },
      60_000,
      'the exec',
    );
    expect(exec.stdout.split('\n')[0]).toBe(`${profile} (enforce)`);
    expect(exec.stdout).toContain('read=1\n');
    expect(exec.stderr).toContain("can't open '/data/secret': Permission denied");
    // A --process file (podman's exec) that names no profile: the container's, as runc's.
    const processFile = path.join(base, 'process.json');
    fs.writeFileSync(
      processFile,
      JSON.stringify({ args: ['sh', '-c', PROBE], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }),
    );
    const fromFile = await oci('exec', '--process', processFile, 'execd');
    expect(fromFile.stdout.split('\n')[0]).toBe(`${profile} (enforce)`);
    expect(fromFile.stdout).toContain('read=1\n');
    expect((await oci('delete', '--force', 'execd')).exitCode).toBe(0);

    // runc's exec --apparmor: a profile for the exec'd process alone.
    editSpec(bundle, (spec) => {
      delete spec.process.apparmorProfile;
    });
    expect((await oci('create', '--bundle', bundle, 'plain')).exitCode).toBe(0);
    expect((await oci('start', 'plain')).exitCode).toBe(0);
    const free = await oci('exec', 'plain', 'sh', '-c', PROBE);
    expect(free.stdout).toContain(`${SECRET}\nread=0\n`);
    const flagged = await oci('exec', '--apparmor', profile, 'plain', 'sh', '-c', PROBE);
    expect(flagged.stdout.split('\n')[0]).toBe(`${profile} (enforce)`);
    expect(flagged.stdout).toContain('read=1\n');
    expect((await oci('delete', '--force', 'plain')).exitCode).toBe(0);
  });

  it('the helper holding the profile’s exec attribute before its execve is out of the container’s reach', async () => {
    editSpec(bundle, (spec) => {
      delete spec.process.apparmorProfile;
      spec.process.args = ['sleep', '600'];
    });
    expect((await oci('create', '--bundle', bundle, 'attr')).exitCode).toBe(0);
    expect((await oci('start', 'attr')).exitCode).toBe(0);
    const held = await attackAttributeHolder({
      id: 'attr',
      stateRoot,
      env: { GANTRY_CGROUP_PARENT: cgroupParent },
      execFlags: ['--apparmor', profile],
      secret: `gantry-secret-${crypto.randomBytes(8).toString('hex')}`,
    });
    expect(held).toEqual(['apparmor/exec']);
    expect((await oci('delete', '--force', 'attr')).exitCode).toBe(0);
  });

  it('a profile that is not loaded fails create with its name, leaving no container', async () => {
    const missing = `${profile}-not-loaded`;
    editSpec(bundle, (spec) => {
      spec.process.apparmorProfile = missing;
      spec.process.args = ['true'];
    });
    const result = await oci('create', '--bundle', bundle, 'not-loaded');
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(`apply AppArmor profile \`${missing}\`: ENOENT`);
    expect(result.stderr).toContain('apparmor_parser -r');
    expect(fs.existsSync(path.join(stateRoot, 'not-loaded'))).toBe(false);
  });

  it('gantry run --security-opt apparmor=PROFILE confines the container; inspect names the profile', async () => {
    const name = 'aa-run';
    const run = await engine.gantry([
      'run',
      '--name',
      name,
      '--network',
      'none',
      '--security-opt',
      `apparmor=${profile}`,
      '-v',
      `${data}:/data:ro`,
      'demo',
      'sh',
      '-c',
      PROBE,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`${profile} (enforce)`);
    expect(run.stdout).toContain('read=1\n');
    expect(run.stdout).not.toContain(SECRET);
    const inspected = await engine.gantry(['inspect', '-f', '{{.AppArmorProfile}}', name]);
    expect(inspected.stdout.trim()).toBe(profile);
    expect((await engine.gantry(['rm', name])).exitCode).toBe(0);
    // Control: the same run without the option reads the file.
    const free = await engine.gantry([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${data}:/data:ro`,
      'demo',
      'sh',
      '-c',
      PROBE,
    ]);
    expect(free.exitCode, free.stderr).toBe(0);
    expect(free.stdout).toContain(`${SECRET}\nread=0\n`);
  });
});
