/**
 * gantry-oci on a pure cgroup v2 host (the guest of `npm run test:cgroup-v2`): what a bundle's
 * linux.resources asks of cgroup v2 — the unified map, per-device blockIO weights, hugetlb limits —
 * is applied as runc applies it, or refused before anything runs. On any other host each test
 * skips with the reason.
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { splitDeviceNumber } from '../../../source/runtime/cgroups/parse.js';
import { cgroupV2File, describeCgroupV2, requireOrSkip } from '../../support/cgroup-v2.js';
import { cgroupDirectories, GANTRY_OCI, testName, waitFor } from '../../support/engine.js';
import { needsFile } from '../../support/skip.js';

const MiB = 1024 * 1024;
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
const runc = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));
const missing = [
  needsFile(['/bin/busybox', '/usr/bin/busybox'], 'busybox', 'busybox-static'),
  needsFile(['/usr/sbin/runc', '/usr/bin/runc'], 'runc (for `runc spec`)', 'runc'),
];

describeCgroupV2(
  'gantry-oci on cgroup v2',
  () => {
    let base = '';
    let bundle = '';
    let stateRoot = '';
    const cgroupParent = testName(`oci-v2-${process.pid}`);

    let calls = 0;
    /**
     * `gantry-oci ARGS` with files for stdio (a created container keeps them), new ones each call
     * so that a later call never truncates what a container still writes to.
     */
    const oci = async (...args: string[]) => {
      calls += 1;
      const out = path.join(base, `out-${calls}`);
      const err = path.join(base, `err-${calls}`);
      const outFd = fs.openSync(out, 'w');
      const errFd = fs.openSync(err, 'w');
      try {
        const child = spawn(process.execPath, [GANTRY_OCI, '--root', stateRoot, ...args], {
          env: { ...process.env, GANTRY_CGROUP_PARENT: cgroupParent },
          stdio: ['ignore', outFd, errFd],
        });
        const exitCode = await new Promise<number>((resolve) =>
          child.on('exit', (code) => resolve(code ?? 128)),
        );
        return { stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8'), exitCode, out };
      } finally {
        fs.closeSync(outFd);
        fs.closeSync(errFd);
      }
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests edit arbitrary spec fields
    const writeSpec = (edit: (spec: Record<string, any>) => void) => {
      const file = path.join(bundle, 'config.json');
      const spec = JSON.parse(fs.readFileSync(path.join(base, 'config.json'), 'utf8'));
      spec.process.terminal = false;
      spec.process.args = ['sleep', 'infinity'];
      edit(spec);
      fs.writeFileSync(file, JSON.stringify(spec));
    };
    const file = (id: string, name: string) => cgroupV2File(path.join(cgroupParent, id), name);

    beforeAll(async () => {
      // Asynchronous throughout: the guest's 9p reads must not hold up the worker's event loop.
      base = await fsp.mkdtemp(path.join(os.tmpdir(), `${testName('oci-v2')}-`));
      bundle = path.join(base, 'bundle');
      stateRoot = path.join(base, 'state');
      await fsp.mkdir(path.join(bundle, 'rootfs', 'bin'), { recursive: true });
      await fsp.copyFile(busybox!, path.join(bundle, 'rootfs', 'bin', 'busybox'));
      await fsp.chmod(path.join(bundle, 'rootfs', 'bin', 'busybox'), 0o755);
      for (const applet of ['sh', 'sleep', 'fallocate', 'rm'])
        await fsp.symlink('busybox', path.join(bundle, 'rootfs', 'bin', applet));
      await execa(runc!, ['spec'], { cwd: bundle });
      await fsp.copyFile(path.join(bundle, 'config.json'), path.join(base, 'config.json'));
    });

    afterAll(async () => {
      for (const id of fs.existsSync(stateRoot) ? fs.readdirSync(stateRoot) : [])
        await oci('delete', '--force', id);
      for (const dir of cgroupDirectories(cgroupParent)) fs.rmdirSync(dir);
      fs.rmSync(base, { recursive: true, force: true });
      expect(cgroupDirectories(cgroupParent)).toEqual([]);
    });

    it('writes linux.resources.unified after the named limits, as runc does', async () => {
      writeSpec((spec) => {
        spec.linux.resources = {
          memory: { limit: 64 * MiB },
          pids: { limit: 50 },
          unified: { 'memory.high': String(48 * MiB), 'pids.max': '9', 'cpu.weight': '42' },
        };
      });
      const created = await oci('create', '--bundle', bundle, 'unified');
      expect(created.exitCode, created.stderr).toBe(0);
      expect(file('unified', 'memory.max')).toBe(String(64 * MiB));
      expect(file('unified', 'memory.high')).toBe(String(48 * MiB));
      // The raw value wins over the named one for the same file.
      expect(file('unified', 'pids.max')).toBe('9');
      expect(file('unified', 'cpu.weight')).toBe('42');
      expect((await oci('delete', '--force', 'unified')).exitCode).toBe(0);
    });

    it('refuses a unified name that is no limit, or no file, before the container exists', async () => {
      for (const [unified, message] of [
        [{ 'cgroup.procs': '1' }, /"cgroup.procs" is not a limit/],
        [{ '../memory.max': '1' }, /"..\/memory.max" is not the name of a cgroup v2 file/],
        [{ 'memory.nonsense': '1' }, /this kernel has no cgroup file "memory.nonsense"/],
      ] as const) {
        writeSpec((spec) => {
          spec.linux.resources = { unified };
        });
        const result = await oci('create', '--bundle', bundle, 'refused');
        expect(result.exitCode).not.toBe(0);
        expect(result.stderr).toMatch(message);
        expect(fs.existsSync(path.join(stateRoot, 'refused'))).toBe(false);
        expect(cgroupDirectories(path.join(cgroupParent, 'refused'))).toEqual([]);
      }
    });

    it('applies blockIO weights to a BFQ disk, and refuses a device weight for a disk without BFQ', async (context) => {
      const disks = ['vda', 'vdb', 'sda', 'sdb'].filter((name) =>
        fs.existsSync(`/sys/block/${name}/queue/scheduler`),
      );
      const scheduler = (name: string) => fs.readFileSync(`/sys/block/${name}/queue/scheduler`, 'utf8');
      const withBfq = disks.find((name) => scheduler(name).includes('[bfq]'));
      const without = disks.find((name) => !scheduler(name).includes('[bfq]'));
      requireOrSkip(
        context,
        withBfq && without
          ? undefined
          : 'needs one disk with BFQ and one without (the guest has vda and vdb)',
      );
      const numbers = (name: string) => splitDeviceNumber(fs.statSync(`/dev/${name}`).rdev);
      writeSpec((spec) => {
        spec.linux.resources = {
          blockIO: { weight: 200, weightDevice: [{ ...numbers(withBfq!), weight: 600 }] },
        };
      });
      const created = await oci('create', '--bundle', bundle, 'weights');
      expect(created.exitCode, created.stderr).toBe(0);
      const { major, minor } = numbers(withBfq!);
      expect(file('weights', 'io.bfq.weight').split('\n')).toEqual(['default 200', `${major}:${minor} 600`]);
      expect((await oci('delete', '--force', 'weights')).exitCode).toBe(0);

      writeSpec((spec) => {
        spec.linux.resources = { blockIO: { weightDevice: [{ ...numbers(without!), weight: 600 }] } };
      });
      const refused = await oci('create', '--bundle', bundle, 'no-bfq');
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(/takes a per-device weight only from BFQ/);
      expect(fs.existsSync(path.join(stateRoot, 'no-bfq'))).toBe(false);
    });

    it('limits 2 MB huge pages (hugetlb.2MB.max): an allocation beyond the limit fails and is counted', async (context) => {
      const pages = Number(fs.readFileSync('/proc/sys/vm/nr_hugepages', 'utf8'));
      requireOrSkip(
        context,
        pages >= 4 ? undefined : `the kernel has ${pages} huge pages reserved, 4 are needed`,
      );
      writeSpec((spec) => {
        spec.linux.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 4 * MiB }] };
        spec.mounts.push({
          destination: '/huge',
          type: 'hugetlbfs',
          source: 'hugetlbfs',
          options: ['nosuid', 'nodev'],
        });
        spec.process.args = [
          'sh',
          '-c',
          'fallocate -l 6M /huge/a; echo over=$?; rm -f /huge/a; fallocate -l 4M /huge/b; echo within=$?; exec sleep infinity',
        ];
      });
      const created = await oci('create', '--bundle', bundle, 'huge');
      expect(created.exitCode, created.stderr).toBe(0);
      expect((await oci('start', 'huge')).exitCode).toBe(0);
      const output = await waitFor(
        () => {
          const text = fs.readFileSync(created.out, 'utf8');
          return text.includes('within=') ? text : undefined;
        },
        60_000,
        'the allocations',
      );
      expect(output).toMatch(/^over=[1-9]\d*\nwithin=0\n$/);
      expect(file('huge', 'hugetlb.2MB.max')).toBe(String(4 * MiB));
      expect(Number(/max (\d+)/.exec(file('huge', 'hugetlb.2MB.events'))?.[1])).toBeGreaterThan(0);
      expect((await oci('delete', '--force', 'huge')).exitCode).toBe(0);
    });
  },
  ...missing,
);
