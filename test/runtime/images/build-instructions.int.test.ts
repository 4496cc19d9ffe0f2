/**
 * The config instructions of a build on the real kernel: HEALTHCHECK (docker's Healthcheck shape,
 * durations in nanoseconds), STOPSIGNAL, SHELL (used by RUN, kept in the config, inherited by a
 * build FROM the image) and ONBUILD (stored as triggers, run by the next build FROM the image,
 * then dropped).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';
import { makeTempDirectory } from './support.js';

interface InspectedConfig {
  Healthcheck?: Record<string, unknown>;
  StopSignal?: string;
  Shell?: string[];
  OnBuild?: string[] | null;
}

describeUnless(needsRoot(), 'gantry build: HEALTHCHECK, STOPSIGNAL, SHELL, ONBUILD', () => {
  const engine = engineForSuite('build-instructions');
  let temp: string;

  beforeAll(() => {
    temp = makeTempDirectory('build-instructions');
  });

  afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

  async function ok(args: string[]): Promise<string> {
    const result = await engine.gantry(args);
    expect(result.exitCode, `gantry ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`).toBe(0);
    return result.stdout + result.stderr;
  }

  function context(name: string, containerfile: string, files: Record<string, string> = {}): string {
    const directory = path.join(temp, name);
    fs.mkdirSync(directory, { recursive: true });
    fs.writeFileSync(path.join(directory, 'Containerfile'), containerfile);
    for (const [file, content] of Object.entries(files))
      fs.writeFileSync(path.join(directory, file), content);
    return directory;
  }

  async function config(image: string): Promise<InspectedConfig> {
    const result = await engine.gantry(['image', 'inspect', image]);
    expect(result.exitCode, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as Array<{ Config: InspectedConfig }>)[0]!.Config;
  }

  it("writes docker's Healthcheck, StopSignal and Shell; RUN uses the SHELL; ONBUILD is stored, not run", async () => {
    const output = await ok([
      'build',
      '-t',
      'parent:1',
      context(
        'parent',
        [
          'FROM demo',
          'HEALTHCHECK --interval=5m --timeout=3s --start-period=2s --retries=4 CMD test -e /healthy || exit 1',
          'STOPSIGNAL SIGQUIT',
          'SHELL ["/bin/sh", "-xc"]',
          'RUN echo traced > /traced',
          'ONBUILD RUN echo "trigger ran" > /triggered',
          'onbuild COPY note.txt /note.txt',
          '',
        ].join('\n'),
        { 'note.txt': 'parent note\n' },
      ),
    ]);
    // sh -x traces the command: the RUN went through the SHELL.
    expect(output).toContain('+ echo traced');
    const parent = await config('parent:1');
    expect(parent.Healthcheck).toEqual({
      Test: ['CMD-SHELL', 'test -e /healthy || exit 1'],
      Interval: 300_000_000_000,
      Timeout: 3_000_000_000,
      StartPeriod: 2_000_000_000,
      Retries: 4,
    });
    expect(parent.StopSignal).toBe('SIGQUIT');
    expect(parent.Shell).toEqual(['/bin/sh', '-xc']);
    expect(parent.OnBuild).toEqual(['RUN echo "trigger ran" > /triggered', 'COPY note.txt /note.txt']);
    // ONBUILD ran nothing in its own build.
    const absent = await engine.gantry(['run', '--rm', 'parent:1', 'test', '-e', '/triggered']);
    expect(absent.exitCode).toBe(1);
  });

  it('a build FROM the image runs its triggers first, with its own context, and keeps the rest', async () => {
    const output = await ok([
      'build',
      '-t',
      'child:1',
      context('child', 'FROM parent:1\nRUN echo child > /child\n', { 'note.txt': 'child note\n' }),
    ]);
    expect(output).toContain('executing 2 build triggers of parent:1');
    expect(output).toContain('+ echo child');
    expect(await ok(['run', '--rm', 'child:1', 'cat', '/triggered', '/note.txt', '/child'])).toBe(
      'trigger ran\nchild note\nchild\n',
    );
    const child = await config('child:1');
    expect(child.OnBuild ?? []).toEqual([]);
    expect(child.Healthcheck?.Test).toEqual(['CMD-SHELL', 'test -e /healthy || exit 1']);
    expect(child.StopSignal).toBe('SIGQUIT');
    // HEALTHCHECK NONE turns an inherited check off, as docker writes it.
    await ok(['build', '-t', 'child:2', context('none', 'FROM child:1\nHEALTHCHECK NONE\n')]);
    expect((await config('child:2')).Healthcheck).toEqual({ Test: ['NONE'] });
  });

  it('refuses a bad HEALTHCHECK or ONBUILD with the line and what is accepted, leaving no image', async () => {
    const cases: Array<[string, RegExp]> = [
      [
        'FROM demo\nHEALTHCHECK --interval=10 CMD true\n',
        /Containerfile:2 HEALTHCHECK\): HEALTHCHECK --interval=10: not a duration/,
      ],
      ['FROM demo\nHEALTHCHECK echo\n', /HEALTHCHECK expects CMD or NONE/],
      ['FROM demo\nONBUILD FROM demo\n', /ONBUILD FROM is not allowed/],
      ['FROM demo\nONBUILD BOGUS x\n', /unknown instruction "BOGUS"/],
    ];
    for (const [file, expected] of cases) {
      const result = await engine.gantry(['build', '-t', 'bad:1', context('bad', file)]);
      expect(result.exitCode, file).toBe(1);
      expect(result.stderr, file).toMatch(expected);
    }
    expect((await engine.gantry(['image', 'inspect', 'bad:1'])).exitCode).not.toBe(0);
  });

  it("--label, --iidfile and --ulimit apply; a --platform other than the host's is refused", async () => {
    const iidfile = path.join(temp, 'iid');
    const directory = context('flags', 'FROM demo\nLABEL a=from-file\nRUN ulimit -n > /nofile\n');
    const output = await ok([
      'build',
      '--label',
      'a=from-flag',
      '--label',
      'b=2',
      '--iidfile',
      iidfile,
      '--ulimit',
      'nofile=512:512',
      '-t',
      'flags:1',
      directory,
    ]);
    const id = fs.readFileSync(iidfile, 'utf8');
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(output).toContain(id);
    const inspected = JSON.parse(await ok(['image', 'inspect', 'flags:1'])) as Array<{
      Id: string;
      Config: { Labels: Record<string, string> };
    }>;
    expect(inspected[0]!.Id).toBe(id);
    // The flag wins over the file's LABEL, as docker applies --label last.
    expect(inspected[0]!.Config.Labels).toMatchObject({ a: 'from-flag', b: '2' });
    // The RUN step ran under the limit.
    expect((await ok(['run', '--rm', 'flags:1', 'cat', '/nofile'])).trim()).toBe('512');
    const foreign = process.arch === 'arm64' ? 'linux/amd64' : 'linux/arm64';
    const refused = await engine.gantry(['build', '--platform', foreign, directory]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain(`--platform ${foreign}: only this host's platform`);
  });
});
