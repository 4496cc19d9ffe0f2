/**
 * Where gantry's cgroup parent may live on a pure cgroup v2 host (the guest of
 * `npm run test:cgroup-v2`, which runs these tests from the root cgroup and from a systemd-like
 * session scope): v2 lets a cgroup hold processes or give controllers to children, not both (the
 * no-internal-processes rule). A parent that holds processes is refused and left as it was; the
 * root of gantry's own cgroup namespace (gantry in a container) is made room in by moving its
 * processes into a leaf, as podman does. On any other host each test skips with the reason.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { CGROUP_V2_ROOT, cgroupV2File, describeCgroupV2, requireOrSkip } from '../../support/cgroup-v2.js';
import { cgroupDirectories, engineForSuite, GANTRY, testName, waitFor } from '../../support/engine.js';

const MiB = 1024 * 1024;

/** The cgroup this process is in, as /proc/self/cgroup names it. */
function ownCgroup(): string {
  const line = fs
    .readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('0::'));
  return line?.slice(3) ?? '/';
}

/** Removes a cgroup tree this test made, deepest first, once its processes are gone. */
async function removeTree(dir: string): Promise<void> {
  if (!fs.existsSync(dir)) return;
  for (const entry of await fsp.readdir(dir, { withFileTypes: true }))
    if (entry.isDirectory()) await removeTree(path.join(dir, entry.name));
  await waitFor(
    async () => (await fsp.readFile(path.join(dir, 'cgroup.procs'), 'utf8')).trim() === '',
    30_000,
    `${dir} to empty`,
  );
  await waitFor(
    () =>
      fsp.rmdir(dir).then(
        () => true,
        () => undefined,
      ),
    60_000,
    `rmdir ${dir}`,
  );
}

describeCgroupV2('cgroup v2 delegation', () => {
  const engine = engineForSuite('delegation');

  it('refuses a cgroup parent that holds processes, explains the rule, and leaves it as it was', async () => {
    const busy = testName('busy-parent');
    const busyDir = path.join(CGROUP_V2_ROOT, busy);
    await fsp.mkdir(busyDir);
    const sitter = spawn('sleep', ['infinity'], { stdio: 'ignore' });
    onTestFinished(async () => {
      sitter.kill('SIGKILL');
      await removeTree(busyDir);
    });
    await fsp.writeFile(path.join(busyDir, 'cgroup.procs'), String(sitter.pid));
    const subtreeBefore = cgroupV2File(busy, 'cgroup.subtree_control');

    const refused = await engine.gantry([
      '--cgroup-parent',
      busy,
      'run',
      '--rm',
      '--memory',
      '32m',
      'demo',
      'true',
    ]);
    expect(refused.exitCode).toBe(125);
    expect(refused.stderr).toMatch(
      new RegExp(
        `cannot make ${busyDir} a cgroup parent: it has processes of its own \\(${sitter.pid}\\).*no-internal-processes rule`,
      ),
    );
    expect(refused.stderr).toMatch(/hint: choose a --cgroup-parent .* that holds no processes/);
    expect(cgroupV2File(busy, 'cgroup.subtree_control')).toBe(subtreeBefore);
    expect(
      (await fsp.readdir(busyDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()),
    ).toEqual([]);
    expect((await engine.gantry(['ps', '-aq'])).stdout).toBe('');

    // Where a systemd login starts gantry (the guest's session run): that scope holds this very
    // test, so it cannot be a parent either; the default parent, beside it, works.
    const own = ownCgroup();
    if (own !== '/') {
      const scope = await engine.gantry([
        '--cgroup-parent',
        own,
        'run',
        '--rm',
        '--memory',
        '32m',
        'demo',
        'true',
      ]);
      expect(scope.exitCode).toBe(125);
      expect(scope.stderr).toMatch(/has processes of its own .*no-internal-processes rule/);
    }
    const fine = await engine.gantry([
      'run',
      '--rm',
      '--memory',
      '32m',
      'demo',
      'cat',
      '/sys/fs/cgroup/memory.max',
    ]);
    expect(fine.exitCode, fine.stderr).toBe(0);
    expect(fine.stdout).toBe(`${32 * MiB}\n`);
  });

  it('leaves no directory of a parent it made, which the harness finds at the root of the v2 tree', async () => {
    // GANTRY_CGROUP_PARENT=x gantry run: on v2 the container's cgroup is /sys/fs/cgroup/x/ID (no
    // hierarchy directory between), and that is where the harness's leak check must look.
    const top = testName('made-parent');
    const env = { ...engine.env, GANTRY_CGROUP_PARENT: `${top}/nested` };
    onTestFinished(() => removeTree(path.join(CGROUP_V2_ROOT, top)));
    const started = await engine.gantry(['run', '-d', '--memory', '32m', 'demo', 'sleep', 'infinity'], {
      env,
    });
    expect(started.exitCode, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect(cgroupDirectories(path.join(top, 'nested', id))).toEqual([
      path.join(CGROUP_V2_ROOT, top, 'nested', id),
    ]);
    expect(cgroupV2File(path.join(top, 'nested', id), 'memory.max')).toBe(String(32 * MiB));
    expect((await engine.gantry(['rm', '-f', id], { env })).exitCode).toBe(0);
    expect(cgroupDirectories(top)).toEqual([]);

    const once = await engine.gantry(['run', '--rm', 'demo', 'true'], { env });
    expect(once.exitCode, once.stderr).toBe(0);
    expect(cgroupDirectories(top)).toEqual([]);
  });

  it("enables the controllers a container needs in a systemd slice's cgroup.subtree_control", async (context) => {
    // systemd enables only memory and pids on user.slice (the guest's init.sh does the same); a
    // parent below it needs cpu and the rest enabled there first, in a cgroup gantry did not make.
    const slice = 'user.slice';
    requireOrSkip(
      context,
      fs.existsSync(path.join(CGROUP_V2_ROOT, slice))
        ? undefined
        : `this host has no ${slice} (no systemd), so no slice to delegate from`,
    );
    const before = cgroupV2File(slice, 'cgroup.subtree_control').split(' ').filter(Boolean);
    const parent = path.join(slice, testName('in-slice'));
    onTestFinished(async () => {
      await removeTree(path.join(CGROUP_V2_ROOT, parent));
      // What this test made gantry enable goes back, so a real host's slice is left as it was.
      const added = cgroupV2File(slice, 'cgroup.subtree_control')
        .split(' ')
        .filter((controller) => controller && !before.includes(controller));
      if (added.length > 0)
        await fsp.writeFile(
          path.join(CGROUP_V2_ROOT, slice, 'cgroup.subtree_control'),
          added.map((controller) => `-${controller}`).join(' '),
        );
    });
    const started = await engine.gantry([
      '--cgroup-parent',
      parent,
      'run',
      '-d',
      '--cpus',
      '0.5',
      '--memory',
      '32m',
      'demo',
      'sleep',
      'infinity',
    ]);
    expect(started.exitCode, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect(cgroupV2File(slice, 'cgroup.subtree_control').split(' ')).toEqual(
      expect.arrayContaining(['cpu', 'memory', 'pids']),
    );
    expect(cgroupV2File(path.join(parent, id), 'cpu.max')).toBe('50000 100000');
    expect(cgroupV2File(path.join(parent, id), 'memory.max')).toBe(String(32 * MiB));
    expect((await engine.gantry(['--cgroup-parent', parent, 'rm', '-f', id])).exitCode).toBe(0);
    expect(cgroupDirectories(parent)).toEqual([]);
  });

  it("moves the processes of its cgroup namespace's root into init, then runs the container below it", async () => {
    const outer = testName('ns-root');
    const outerDir = path.join(CGROUP_V2_ROOT, outer);
    await fsp.mkdir(outerDir);
    onTestFinished(() => removeTree(outerDir));
    // A shell in a cgroup of its own, then a cgroup namespace rooted there with cgroup2 mounted
    // afresh in a private mount namespace: gantry sees its own cgroup as /sys/fs/cgroup, as in a
    // container started with a private cgroup namespace.
    const inner = [
      // The inherited mount first: the same tree mounted again at the same place is refused.
      'umount -l /sys/fs/cgroup',
      'mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup',
      `exec ${process.execPath} ${GANTRY} run --rm --memory 32m --pids-limit 20 demo sh -c "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /proc/self/cgroup"`,
    ].join(' && ');
    const script = `echo $$ > ${outerDir}/cgroup.procs && exec unshare --cgroup --mount --propagation private sh -c '${inner}'`;
    const child = spawn('sh', ['-c', script], {
      env: { ...process.env, ...engine.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(stdout).toBe(`${32 * MiB}\n20\n0::/\n`);
    // The shell and gantry went to init; the namespace's root now gives controllers to children.
    expect(fs.existsSync(path.join(outerDir, 'init'))).toBe(true);
    expect(cgroupV2File(outer, 'cgroup.procs')).toBe('');
    expect(cgroupV2File(outer, 'cgroup.subtree_control').split(' ')).toEqual(
      expect.arrayContaining(['memory', 'pids']),
    );
  });
});
