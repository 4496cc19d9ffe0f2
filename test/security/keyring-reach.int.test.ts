/**
 * The attack on the caller's keys through the session keyring: whoever runs `gantry exec` (or
 * `gantry-oci exec`) holds a session keyring with the host user's keys in it. The exec'd process
 * joins the container's own `_ses.ID` (session-keyring.int.test.ts), so it does not hold the
 * caller's; this file checks that it cannot reach it either. The caller here is the worst case: a
 * named session keyring (`keyctl session NAME` makes one; the kernel lets its owner's uid view,
 * read and link it without possessing it) with a "user" key holding a secret, whose serials the
 * attacker is told. From inside, attack.c's `keyring-reach` describes and lists that keyring, reads
 * the key, links both into its own keyring (possession would then give the secret), reads
 * /proc/keys and joins a keyring by the caller's name.
 *
 * Defended: the default seccomp profile (docker's) refuses keyctl(2) outright; under a user
 * namespace the kernel refuses every step (the container's root is another uid), even with
 * seccomp off, and joining by name gives a new keyring. The
 * control: with neither (no user namespace and seccomp=unconfined, the administrator's choice,
 * as under runc) the same attack reads the secret, which proves the attack real; the anonymous
 * session keyring pam_keyinit gives a login is out of its reach even then.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GANTRY, GANTRY_OCI, engineForSuite, testName } from '../support/engine.js';
import {
  editSpec,
  makeOciBundle,
  ociRunner,
  ociSuiteNeeds,
  tearDownOci,
  type OciBundle,
} from '../support/oci-bundle.js';
import { describeUnless, needsRoot } from '../support/skip.js';
import { mapBundle, usernsBase } from '../support/userns.js';
import { attempts, buildAttackTool } from './support.js';

const SECRET = `gantry-secret-${process.pid}`;
/** The caller's keyring name: a named one is the one its owner's uid may link without holding it. */
const RING = testName('caller-keys');

describeUnless(needsRoot(), 'an exec’d process and the caller’s session keyring', () => {
  // Private subordinate id files for --userns=auto (the host's /etc/subuid is never touched).
  const base = usernsBase('keyreach');
  const engine = engineForSuite('keyreach');
  let tools = '';

  beforeAll(() => {
    tools = buildAttackTool();
  });
  afterAll(() => {
    for (const dir of [tools, base]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs COMMAND as a caller in a new session keyring RING (or an anonymous one for "-") holding
   * the user key "gantry-secret" = SECRET; COMMAND runs `attack keyring-reach` inside a container
   * with that keyring's serials.
   */
  async function asCaller(ring: string, command: string[], env: Record<string, string>) {
    const attack = path.join(tools, 'attack');
    const reach = ['/attack/attack', 'keyring-reach', '{ring}', '{key}', ring === '-' ? '_ses' : ring];
    const result = await engine.inNetns(attack, ['session', ring, SECRET, ...command, ...reach], {
      env: { ...engine.env, ...env },
    });
    return { ...result, found: attempts(result.stdout) };
  }

  const gantryExec = (container: string) => [GANTRY, 'exec', container];

  async function runTarget(name: string, options: string[]) {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'none',
      ...options,
      '-v',
      `${tools}:/attack:ro`,
      'demo',
      'sleep',
      '600',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
  }

  it('gantry exec under the default seccomp profile: every keyctl refused, the secret out of reach', async () => {
    await runTarget('keys-default', []);
    const { found, stdout, stderr, exitCode } = await asCaller(RING, gantryExec('keys-default'), {});
    expect(exitCode, stderr).toBe(0);
    for (const step of [
      'describe-keyring',
      'list-keyring',
      'read-key',
      'link-keyring',
      'link-key',
      'search-key',
    ])
      expect(found.get(step), step).toBe('EPERM');
    expect(found.get('join-keyring')).toBe('EPERM');
    expect(found.get('proc-keys')).not.toBe('seen');
    expect(stdout).not.toContain(SECRET);
    expect((await engine.gantry(['rm', '-f', 'keys-default'])).exitCode).toBe(0);
  });

  it('gantry exec under --userns=auto with seccomp=unconfined (keyctl allowed): the kernel refuses every step', async () => {
    await runTarget('keys-userns', ['--userns=auto', '--security-opt', 'seccomp=unconfined']);
    const { found, stdout, stderr, exitCode } = await asCaller(RING, gantryExec('keys-userns'), {});
    expect(exitCode, stderr).toBe(0);
    for (const step of ['describe-keyring', 'list-keyring', 'read-key', 'link-keyring', 'link-key'])
      expect(found.get(step), step).toBe('EACCES');
    // Its own keyring (the container's) has no such key; joining the caller's name makes a new one.
    expect(found.get('search-key')).toBe('ENOKEY');
    expect(found.get('proc-keys')).toBe('unseen');
    expect(found.get('join-keyring')).toBe('new');
    expect(found.get('joined-search-key')).toBe('ENOKEY');
    expect(stdout).not.toContain(SECRET);
    expect((await engine.gantry(['rm', '-f', 'keys-userns'])).exitCode).toBe(0);
  });

  it('the control: no user namespace and seccomp=unconfined read a named caller keyring’s secret, not an anonymous one’s', async () => {
    await runTarget('keys-open', ['--security-opt', 'seccomp=unconfined']);
    const named = await asCaller(RING, gantryExec('keys-open'), {});
    expect(named.exitCode, named.stderr).toBe(0);
    // The container's root is the caller's uid: the kernel's rules for that uid are all there is.
    expect(named.found.get('link-keyring')).toBe('ok');
    expect(named.stdout).toContain(`search-key ok ${SECRET}`);
    // pam_keyinit's anonymous session keyring grants its uid no link: the secret stays out of reach.
    // (Another container: the first one's keyring now holds the link the attack made.)
    await runTarget('keys-open-anon', ['--security-opt', 'seccomp=unconfined']);
    const anonymous = await asCaller('-', gantryExec('keys-open-anon'), {});
    expect(anonymous.exitCode, anonymous.stderr).toBe(0);
    expect(anonymous.found.get('link-keyring')).toBe('EACCES');
    expect(anonymous.found.get('read-key')).toBe('EACCES');
    expect(anonymous.stdout).not.toContain(SECRET);
    expect((await engine.gantry(['rm', '-f', 'keys-open', 'keys-open-anon'])).exitCode).toBe(0);
  });

  describeUnless(ociSuiteNeeds(), 'gantry-oci exec', () => {
    let where: OciBundle;
    const cgroupParent = testName(`keyreach-oci-${process.pid}`);
    const oci = ociRunner(() => where, { GANTRY_CGROUP_PARENT: cgroupParent });

    beforeAll(async () => {
      where = await makeOciBundle('keyreach-oci');
      // The container's root (an unprivileged host uid) must reach its rootfs through the path.
      fs.chmodSync(where.base, 0o711);
      await mapBundle(where.bundle);
      editSpec(where.bundle, (spec) => {
        spec.process.terminal = false;
        spec.process.args = ['sleep', '600'];
        spec.mounts.push({ destination: '/attack', type: 'bind', source: tools, options: ['rbind', 'ro'] });
        // /proc/keys shown: it lists every key its reader may view.
        spec.linux.maskedPaths = spec.linux.maskedPaths.filter((p: string) => p !== '/proc/keys');
      });
    });
    afterAll(async () => {
      expect(await tearDownOci(oci, where, cgroupParent)).toEqual([]);
    });

    it('in a bundle with a user namespace and no seccomp: the kernel refuses every step', async () => {
      const run = await oci('run', '-d', '--bundle', where.bundle, 'keys');
      expect(run.exitCode, run.stderr).toBe(0);
      const { found, stdout, stderr, exitCode } = await asCaller(
        RING,
        [process.execPath, GANTRY_OCI, '--root', where.stateRoot, 'exec', 'keys'],
        { GANTRY_CGROUP_PARENT: cgroupParent },
      );
      expect(exitCode, stderr).toBe(0);
      for (const step of ['describe-keyring', 'list-keyring', 'read-key', 'link-keyring', 'link-key'])
        expect(found.get(step), step).toBe('EACCES');
      expect(found.get('proc-keys')).toBe('unseen');
      expect(found.get('join-keyring')).toBe('new');
      expect(stdout).not.toContain(SECRET);
    });
  });
});
