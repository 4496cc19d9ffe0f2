/**
 * runc's other commands, as drivers call them: pause and resume (the freezer), ps (the cgroup's
 * pids), update (-r resources.json, and flags), events --stats, features.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cgroupDirectories, testName } from '../../support/engine.js';
import { editSpec, makeOciBundle, ociRunner, ociSuiteNeeds, tearDownOci } from '../../support/oci-bundle.js';
import { describeUnless } from '../../support/skip.js';

describeUnless(ociSuiteNeeds(), 'gantry-oci pause, resume, ps, update, events, features', () => {
  let base: string;
  let bundle: string;
  let stateRoot: string;
  const cgroupParent = testName(`oci-commands-${process.pid}`);
  const oci = ociRunner(() => ({ base, bundle, stateRoot }), { GANTRY_CGROUP_PARENT: cgroupParent });
  /** The file of a controller in the container's own cgroup (v1 here). */
  const cgroupFile = (id: string, controller: string, file: string) =>
    path.join(
      cgroupDirectories(cgroupParent).find((dir) => dir.includes(`/${controller}/`))!,
      id,
      file,
    );
  const state = async (id: string) =>
    JSON.parse((await oci('state', id)).stdout) as { status: string; pid: number };

  beforeAll(async () => {
    ({ base, bundle, stateRoot } = await makeOciBundle('oci-commands'));
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = ['sh', '-c', 'sleep 600 & sleep 600'];
    });
    expect((await oci('run', '-d', '--bundle', bundle, 'c')).exitCode).toBe(0);
  });

  afterAll(async () => {
    expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
  });

  it('pause freezes the cgroup and state says paused; resume thaws it', async () => {
    expect((await oci('pause', 'c')).exitCode).toBe(0);
    expect(fs.readFileSync(cgroupFile('c', 'freezer', 'freezer.state'), 'utf8').trim()).toBe('FROZEN');
    expect((await state('c')).status).toBe('paused');
    const again = await oci('pause', 'c');
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('only a running container can be paused');
    expect((await oci('resume', 'c')).exitCode).toBe(0);
    expect(fs.readFileSync(cgroupFile('c', 'freezer', 'freezer.state'), 'utf8').trim()).toBe('THAWED');
    expect((await state('c')).status).toBe('running');
    expect((await oci('resume', 'c')).stderr).toContain('not paused');
  });

  it('ps lists the host pids of the cgroup as JSON, and ps rows as a table', async () => {
    const pids = JSON.parse((await oci('ps', '--format', 'json', 'c')).stdout) as number[];
    const procs = fs
      .readFileSync(cgroupFile('c', 'pids', 'cgroup.procs'), 'utf8')
      .trim()
      .split('\n')
      .map(Number);
    expect(pids.sort()).toEqual(procs.sort());
    expect(pids).toContain((await state('c')).pid);
    expect(pids).toHaveLength(2);
    const table = (await oci('ps', 'c', '-o', 'pid,args')).stdout.trim().split('\n');
    expect(table[0]).toMatch(/PID\s+COMMAND/);
    expect(
      table
        .slice(1)
        .map((row) => Number(row.trim().split(/\s+/)[0]))
        .sort(),
    ).toEqual(pids.sort());
  });

  it('update takes linux.resources from -r (a file or stdin) and runc flags, in the cgroup', async () => {
    const file = path.join(base, 'resources.json');
    fs.writeFileSync(file, JSON.stringify({ memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 40 } }));
    expect((await oci('update', '-r', file, 'c')).exitCode).toBe(0);
    expect(Number(fs.readFileSync(cgroupFile('c', 'memory', 'memory.limit_in_bytes'), 'utf8'))).toBe(
      64 * 1024 * 1024,
    );
    expect(fs.readFileSync(cgroupFile('c', 'pids', 'pids.max'), 'utf8').trim()).toBe('40');
    expect((await oci('update', '--memory', '96m', '--cpu-share', '512', 'c')).exitCode).toBe(0);
    expect(Number(fs.readFileSync(cgroupFile('c', 'memory', 'memory.limit_in_bytes'), 'utf8'))).toBe(
      96 * 1024 * 1024,
    );
    expect(fs.readFileSync(cgroupFile('c', 'cpu', 'cpu.shares'), 'utf8').trim()).toBe('512');
    const bad = await oci('update', '--memory', 'lots', 'c');
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('memory.limit');
    expect(Number(fs.readFileSync(cgroupFile('c', 'memory', 'memory.limit_in_bytes'), 'utf8'))).toBe(
      96 * 1024 * 1024,
    );
  });

  it('events --stats prints runc-shaped statistics the kernel counted', async () => {
    const result = await oci('events', '--stats', 'c');
    expect(result.exitCode).toBe(0);
    const event = JSON.parse(result.stdout) as {
      type: string;
      id: string;
      data: { pids: { current: number }; memory: { usage: { usage: number; limit: number } } };
    };
    expect(event.type).toBe('stats');
    expect(event.id).toBe('c');
    expect(event.data.pids.current).toBe(2);
    expect(event.data.memory.usage.usage).toBeGreaterThan(0);
    expect(event.data.memory.usage.limit).toBe(96 * 1024 * 1024);
  });

  it('features describes the runtime in the runtime-spec format', async () => {
    const result = await oci('features');
    const features = JSON.parse(result.stdout) as {
      ociVersionMax: string;
      hooks: string[];
      linux: {
        namespaces: string[];
        cgroup: { systemd: boolean };
        apparmor: { enabled: boolean };
        selinux: { enabled: boolean };
      };
    };
    expect(features.ociVersionMax).toBe('1.2.0');
    expect(features.hooks).toContain('createRuntime');
    expect(features.linux.namespaces).toContain('user');
    expect(features.linux.cgroup.systemd).toBe(false);
    // As runc's: profiles and labels are applied (where the host runs AppArmor or SELinux).
    expect(features.linux.apparmor.enabled).toBe(true);
    expect(features.linux.selinux.enabled).toBe(true);
  });

  it('kill of a paused container with SIGKILL ends it, as runc (the cgroup is thawed)', async () => {
    expect((await oci('pause', 'c')).exitCode).toBe(0);
    const pid = (await state('c')).pid;
    expect((await oci('kill', 'c', 'KILL')).exitCode).toBe(0);
    expect(fs.readFileSync(cgroupFile('c', 'freezer', 'freezer.state'), 'utf8').trim()).toBe('THAWED');
    const { waitFor } = await import('../../support/engine.js');
    await waitFor(async () => (await state('c')).status === 'stopped', 60_000, 'the container to stop');
    expect(
      fs.existsSync(`/proc/${pid}/stat`)
        ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2]
        : 'gone',
    ).toMatch(/Z|gone/);
  });
});
