/**
 * `--mount`, `--tmpfs` and `-v` options on the real kernel: what the container's mount table
 * says (size, mode, flags, propagation), what inspect shows (docker's Mounts fields,
 * HostConfig.Tmpfs/Mounts) and the refusals docker makes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, testName } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

/** The fields of /proc/self/mountinfo lines for `destination`: options, optional fields, super options. */
function mountLine(mountinfo: string, destination: string) {
  const line = mountinfo.split('\n').find((entry) => entry.split(' ')[4] === destination);
  if (!line) throw new Error(`no mount on ${destination} in:\n${mountinfo}`);
  const [before, after] = line.split(' - ') as [string, string];
  const fields = before.split(' ');
  return {
    options: fields[5]!.split(','),
    optional: fields.slice(6),
    superOptions: after.split(' ')[2]!.split(','),
  };
}

describeUnless(needsRoot(), 'mount flags', () => {
  const engine = engineForSuite('mounts');
  let hostDir = '';

  const gantry = async (args: string[]) => {
    const result = await engine.gantry(args);
    if (result.exitCode !== 0) throw new Error(`gantry ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  beforeAll(() => {
    hostDir = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('mounts')}-`));
    fs.writeFileSync(path.join(hostDir, 'in.txt'), 'host\n');
  });
  afterAll(() => fs.rmSync(hostDir, { recursive: true, force: true }));

  it('mounts a tmpfs with --tmpfs and --mount type=tmpfs, with docker defaults, size and mode', async () => {
    const mountinfo = await gantry([
      'run',
      '--rm',
      '--tmpfs',
      '/run1:size=1m,mode=1777',
      '--mount',
      'type=tmpfs,target=/run2,tmpfs-size=2m,tmpfs-mode=700',
      '--tmpfs',
      '/run3:ro',
      'demo',
      'sh',
      '-c',
      'cat /proc/self/mountinfo; stat -c "%a" /run1 /run2 > /dev/stderr',
    ]);
    const one = mountLine(mountinfo, '/run1');
    expect(one.options).toEqual(expect.arrayContaining(['rw', 'nosuid', 'nodev', 'noexec']));
    expect(one.superOptions).toContain('size=1024k');
    const two = mountLine(mountinfo, '/run2');
    expect(two.superOptions).toEqual(expect.arrayContaining(['size=2048k', 'mode=700']));
    expect(two.options).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'noexec']));
    expect(mountLine(mountinfo, '/run3').options).toContain('ro');
    const modes = await engine.gantry([
      'run',
      '--rm',
      '--tmpfs',
      '/run1:mode=1777',
      '--mount',
      'type=tmpfs,target=/run2,tmpfs-mode=700',
      'demo',
      'stat',
      '-c',
      '%a',
      '/run1',
      '/run2',
    ]);
    expect(modes.stdout.trim().split('\n')).toEqual(['1777', '700']);
  });

  it('binds with --mount readonly and propagation, and -v with docker modes', async () => {
    const mountinfo = await gantry([
      'run',
      '--rm',
      '--mount',
      `type=bind,source=${hostDir},target=/b,readonly,bind-propagation=rshared`,
      '-v',
      `${hostDir}:/z:ro,z`,
      '-v',
      `${hostDir}:/p:rprivate`,
      'demo',
      'sh',
      '-c',
      'cat /proc/self/mountinfo; cat /b/in.txt > /dev/stderr; touch /b/x 2>/dev/null && echo writable > /dev/stderr; true',
    ]);
    const bound = mountLine(mountinfo, '/b');
    expect(bound.options).toContain('ro');
    expect(bound.optional.some((field) => field.startsWith('shared:'))).toBe(true);
    expect(mountLine(mountinfo, '/z').options).toContain('ro');
    const privateMount = mountLine(mountinfo, '/p');
    expect(privateMount.options).toContain('rw');
    expect(privateMount.optional.filter((field) => /^(shared|master):/.test(field))).toEqual([]);
    expect(fs.existsSync(path.join(hostDir, 'x'))).toBe(false);
  });

  it("shows each mount in inspect with docker's fields", async () => {
    const id = (
      await gantry([
        'create',
        '-v',
        `${hostDir}:/z:ro,Z`,
        '-v',
        'named-in-inspect:/vol',
        '--mount',
        'type=tmpfs,target=/t,tmpfs-size=1m',
        '--tmpfs',
        '/run:size=64k',
        'demo',
        'true',
      ])
    ).trim();
    const inspected = JSON.parse(await gantry(['inspect', id])) as {
      Mounts: Record<string, unknown>[];
      HostConfig: Record<string, unknown>;
    }[];
    const [container] = inspected;
    const byDestination = new Map(container!.Mounts.map((mount) => [mount.Destination, mount]));
    expect(byDestination.get('/z')).toEqual({
      Type: 'bind',
      Source: hostDir,
      Destination: '/z',
      Mode: 'ro,Z',
      RW: false,
      Propagation: 'rprivate',
      Relabel: 'not relabelled: gantry applies no SELinux labels',
    });
    expect(byDestination.get('/vol')).toEqual({
      Type: 'volume',
      Name: 'named-in-inspect',
      Source: path.join(engine.root, 'volumes', 'named-in-inspect', '_data'),
      Destination: '/vol',
      Driver: 'local',
      Mode: '',
      RW: true,
      Propagation: '',
    });
    expect(byDestination.get('/t')).toEqual({
      Type: 'tmpfs',
      Source: '',
      Destination: '/t',
      Mode: '',
      RW: true,
      Propagation: '',
    });
    // As docker: --tmpfs is in HostConfig.Tmpfs, not in Mounts.
    expect(byDestination.has('/run')).toBe(false);
    expect(container!.HostConfig.Tmpfs).toEqual({ '/run': 'size=64k' });
    expect(container!.HostConfig.Mounts).toEqual([
      { Type: 'tmpfs', Source: '', Target: '/t', TmpfsOptions: { SizeBytes: 1048576 } },
    ]);
    await gantry(['rm', id]);
  });

  it('refuses what docker refuses, and makes nothing', async () => {
    const cases: [string[], string][] = [
      [['--mount', 'type=tmpfs,target=/x', '--tmpfs', '/x'], 'Duplicate mount point: /x'],
      [['--mount', 'type=bind,source=/nonexistent-gantry-path,target=/x'], 'bind source path does not exist'],
      [
        ['--mount', 'type=volume,target=/x,tmpfs-size=1m'],
        "cannot mix 'tmpfs-*' options with mount type 'volume'",
      ],
      [['--mount', 'type=bind,source=/tmp'], 'target is required'],
      [['--tmpfs', '/x:nosuchoption'], 'invalid tmpfs option [nosuchoption]'],
      [['-v', `${hostDir}:/x:rshared,rslave`], 'invalid mode'],
    ];
    for (const [flags, message] of cases) {
      const result = await engine.gantry(['create', ...flags, 'demo', 'true']);
      expect(result.exitCode, flags.join(' ')).toBe(125);
      expect(result.stderr, flags.join(' ')).toContain(message);
    }
    expect((await gantry(['ps', '-aq'])).trim()).toBe('');
  });
});
