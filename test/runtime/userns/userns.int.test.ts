/**
 * `run --userns=auto|keep-id` and `--uidmap`: the container's root is an unprivileged range of the
 * host's ids taken from the `gantry` entry of the subordinate id files (files of the test's own
 * here, made on first use), the image's files are its root's through idmapped layers, and what
 * it writes has the mapped owner on the host.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineForSuite, waitFor } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';
import { hostStart, openDirectory, usernsBase, type IdMappings } from '../../support/userns.js';

const base = usernsBase('userns');

interface Inspected {
  State: { Pid: number };
  HostConfig: {
    UsernsMode: string;
    IDMappings?: IdMappings;
  };
}

describeUnless([needsRoot()], 'user namespaces', () => {
  const engine = engineForSuite('userns');
  let shared: string;

  beforeAll(() => {
    shared = openDirectory(base, 'shared');
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  const inspect = async (name: string): Promise<Inspected> => {
    const result = await engine.gantry(['inspect', name]);
    expect(result.exitCode, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as Inspected[])[0]!;
  };

  it('--userns=auto: root inside, the mapped uid outside for the process, a volume and the writable layer', async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'auto1',
      '--userns=auto',
      '-v',
      `${shared}:/data`,
      'demo',
      'sh',
      '-c',
      'id -u > /data/id; id -g >> /data/id; touch /data/from-container /in-layer; ls -ln /bin/busybox >> /data/id; exec sleep 600',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    // Made on first use, after every range the files gave out (none).
    expect(fs.readFileSync(process.env.GANTRY_SUBUID_FILE!, 'utf8')).toMatch(/^gantry:\d+:\d+\n$/);
    expect(fs.readFileSync(process.env.GANTRY_SUBGID_FILE!, 'utf8')).toMatch(/^gantry:\d+:\d+\n$/);
    const [, subuidStart] = fs.readFileSync(process.env.GANTRY_SUBUID_FILE!, 'utf8').trim().split(':');
    const info = await inspect('auto1');
    expect(info.HostConfig.UsernsMode).toBe('auto');
    expect(info.HostConfig.IDMappings).toMatchObject({
      UidMap: [`0:${subuidStart}:65536`],
      RootfsMapping: 'idmapped',
    });
    const uid = hostStart(info.HostConfig.IDMappings!.UidMap[0]!);
    const gid = hostStart(info.HostConfig.IDMappings!.GidMap[0]!);
    await waitFor(() => fs.existsSync(path.join(shared, 'from-container')) || undefined, 60_000, 'the file');
    await waitFor(
      () => fs.readFileSync(path.join(shared, 'id'), 'utf8').includes('busybox') || undefined,
      60_000,
      'ls',
    );
    const [insideUid, insideGid, listing] = fs.readFileSync(path.join(shared, 'id'), 'utf8').split('\n');
    expect([insideUid, insideGid]).toEqual(['0', '0']);
    // The image's files are the container root's (owner 0 inside), through the idmapped layers.
    expect(listing).toMatch(/^\S+\s+\d+\s+0\s+0\s/);
    const written = fs.statSync(path.join(shared, 'from-container'));
    expect([written.uid, written.gid]).toEqual([uid, gid]);
    const upperFile = path.join(
      engine.root,
      'containers',
      (await engine.gantry(['inspect', '-f', '{{.Id}}', 'auto1'])).stdout.trim(),
      'upper',
      'in-layer',
    );
    const inLayer = fs.statSync(upperFile);
    expect([inLayer.uid, inLayer.gid]).toEqual([uid, gid]);
    const status = fs.readFileSync(`/proc/${info.State.Pid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'));
    expect(status).toMatch(new RegExp(`^Gid:\\s+${gid}\\s+${gid}\\s+${gid}\\s+${gid}$`, 'm'));
    // Its capabilities are its namespace's: the host's user namespace is not its own.
    expect(fs.readlinkSync(`/proc/${info.State.Pid}/ns/user`)).not.toBe(
      fs.readlinkSync('/proc/self/ns/user'),
    );
  });

  it('two auto containers get ranges that do not overlap, and a removed one gives its range back', async () => {
    const second = await engine.gantry(['create', '--name', 'auto2', '--userns=auto', 'demo', 'true']);
    expect(second.exitCode, second.stderr).toBe(0);
    const first = hostStart((await inspect('auto1')).HostConfig.IDMappings!.UidMap[0]!);
    const other = hostStart((await inspect('auto2')).HostConfig.IDMappings!.UidMap[0]!);
    expect(Math.abs(first - other)).toBeGreaterThanOrEqual(65536);
    expect((await engine.gantry(['rm', 'auto2'])).exitCode).toBe(0);
    const allocations = JSON.parse(
      fs.readFileSync(path.join(engine.root, 'userns', 'allocations.json'), 'utf8'),
    ) as {
      containers: Record<string, { uid: number }>;
    };
    expect(Object.values(allocations.containers).map((held) => held.uid)).toEqual([first]);
  });

  it('--uidmap/--gidmap: the given mapping, checked before anything exists', async () => {
    const run = await engine.gantry([
      'run',
      '--rm',
      '--uidmap',
      '0:3300000:65536',
      '--gidmap',
      '0:3400000:65536',
      '-v',
      `${shared}:/data`,
      'demo',
      'sh',
      '-c',
      'cat /proc/self/uid_map /proc/self/gid_map; touch /data/mapped',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\s*0\s+3300000\s+65536$/m);
    expect(run.stdout).toMatch(/^\s*0\s+3400000\s+65536$/m);
    const mapped = fs.statSync(path.join(shared, 'mapped'));
    expect([mapped.uid, mapped.gid]).toEqual([3300000, 3400000]);
    const bad = await engine.gantry(['create', '--uidmap', '0:100000', 'demo', 'true']);
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toContain('CONTAINER:HOST:SIZE');
    const both = await engine.gantry(['create', '--userns=auto', '--uidmap', '0:100000:10', 'demo', 'true']);
    expect(both.exitCode).toBe(125);
    expect(both.stderr).toContain('cannot be combined');
  });

  it('a container restarted by its policy keeps its user namespace and range, and works', async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'restarted',
      '--restart',
      'on-failure:2',
      '--userns=auto',
      'demo',
      'sh',
      '-c',
      // Each run counts itself in the writable layer, says who it is and that sysfs is mounted.
      'echo run >> /runs; echo "runs=$(wc -l < /runs) uid=$(id -u) map=$(cat /proc/self/uid_map | tr -s " ") sys=$(ls /sys | wc -l)"; exit 3',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const state = async () =>
      JSON.parse((await engine.gantry(['inspect', '-f', '{{json .}}', 'restarted'])).stdout) as {
        Id: string;
        RestartCount: number;
        State: { Status: string; ExitCode: number; Error: string };
        HostConfig: { IDMappings: { UidMap: string[] } };
      };
    const done = await waitFor(
      async () => {
        const current = await state();
        return current.RestartCount === 2 && current.State.Status === 'exited' ? current : undefined;
      },
      120_000,
      'two restarts and the end',
    );
    expect(done.State.Error).toBe('');
    expect(done.State.ExitCode).toBe(3);
    const [, hostRoot, size] = done.HostConfig.IDMappings.UidMap[0]!.split(':');
    const logs = await engine.gantry(['logs', 'restarted']);
    expect(logs.stdout.trim().split('\n')).toEqual(
      [1, 2, 3].map((n) =>
        expect.stringMatching(new RegExp(`^runs=${n} uid=0 map= ?0 ${hostRoot} ${size} sys=[1-9]`)),
      ),
    );
    // The range is still the container's and the layer's file is its root's on the host.
    const allocations = JSON.parse(
      fs.readFileSync(path.join(engine.root, 'userns', 'allocations.json'), 'utf8'),
    ) as { containers: Record<string, { uid: number }> };
    expect(allocations.containers[done.Id]?.uid).toBe(Number(hostRoot));
    expect(fs.statSync(path.join(engine.root, 'containers', done.Id, 'upper', 'runs')).uid).toBe(
      Number(hostRoot),
    );
  });

  it('--userns=keep-id: the caller (root) is itself inside, the other ids come from a range', async () => {
    const run = await engine.gantry(['run', '--rm', '--userns=keep-id', 'demo', 'cat', '/proc/self/uid_map']);
    expect(run.exitCode, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).map(Number));
    expect(lines[0]).toEqual([0, 0, 1]);
    expect(lines[1]).toEqual([1, expect.any(Number), 65535]);
    expect(lines[1]![1]).toBeGreaterThanOrEqual(100000);
  });
});

describe('user namespace options', () => {
  it('names what is accepted for a bad --userns', async () => {
    const { parseUserns } = await import('../../../source/runtime/userns/mappings.js');
    expect(() => parseUserns('nope', [], [])).toThrow(/invalid --userns "nope"/);
    expect(parseUserns('auto:size=1024', [], [])).toEqual({ mode: 'auto', size: 1024 });
    expect(parseUserns(undefined, ['0:100000:65536'], [])).toMatchObject({
      mode: 'private',
      gidMap: [{ containerID: 0, hostID: 100000, size: 65536 }],
    });
    expect(() => parseUserns(undefined, ['0:100000:10', '5:200000:10'], [])).toThrow(/overlap/);
  });
});
