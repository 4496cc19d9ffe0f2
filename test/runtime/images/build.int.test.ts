/**
 * `gantry build` on the real kernel: RUN steps in real containers, layers that really stack, the
 * layer cache (a rebuild is all CACHED; a late change rebuilds only what follows it; a second
 * image on the same base shares its layers), and bad input that fails clearly and leaves nothing.
 * Also `image prune` and the size columns of `image ls` on what the builds made.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cgroupDirectories, engineForSuite, waitFor } from '../../support/engine.js';
import { makeTempDirectory, storeContent } from './support.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

interface ImageRow {
  Id: string;
  Repository: string;
  Tag: string;
  Size: number;
  SharedSize: number;
  UniqueSize: number;
}

const CONTAINERFILE = `# A small app on the demo image
FROM demo
ARG GREETING=hello
ENV APP_HOME=/srv/app \\
    MODE=production
RUN mkdir -p /var/log/app && echo "$GREETING from RUN" > /var/log/app/built.txt && echo step output
WORKDIR $APP_HOME
COPY app/ ./
COPY config.txt /etc/app/config.txt
CMD ["sh", "-c", "cat /var/log/app/built.txt; cat config.txt 2>/dev/null || cat /etc/app/config.txt; echo $MODE; pwd"]
`;

describeUnless(needsRoot(), 'gantry build', () => {
  const engine = engineForSuite('build');
  let temp: string;
  let context: string;

  beforeAll(async () => {
    temp = makeTempDirectory('build-context');
    context = path.join(temp, 'context');
    fs.mkdirSync(path.join(context, 'app', 'lib'), { recursive: true });
    fs.writeFileSync(path.join(context, 'Containerfile'), CONTAINERFILE);
    fs.writeFileSync(path.join(context, 'app', 'main.sh'), '#!/bin/sh\necho main\n', { mode: 0o755 });
    fs.writeFileSync(path.join(context, 'app', 'lib', 'util.sh'), 'util\n');
    fs.writeFileSync(path.join(context, 'app', 'debug.log'), 'noise\n');
    fs.writeFileSync(path.join(context, 'config.txt'), 'config v1\n');
    fs.writeFileSync(path.join(context, '.dockerignore'), '# not part of the image\n**/*.log\n');
  });

  afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

  async function ok(args: string[]): Promise<string> {
    const result = await engine.gantry(args);
    expect(result.exitCode, `gantry ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`).toBe(0);
    return result.stdout;
  }

  /** Step headers followed by what came after each, from the build output. */
  function steps(output: string): Array<{ header: string; cached: boolean }> {
    const result: Array<{ header: string; cached: boolean }> = [];
    for (const line of output.split('\n')) {
      if (line.startsWith('STEP ')) result.push({ header: line, cached: false });
      else if (line.startsWith('--> CACHED') && result.length > 0) result.at(-1)!.cached = true;
    }
    return result;
  }

  async function images(): Promise<ImageRow[]> {
    return JSON.parse(await ok(['image', 'ls', '--json'])) as ImageRow[];
  }

  function layerDirectories(): string[] {
    return fs.readdirSync(path.join(engine.root, 'layers')).sort();
  }

  let firstId = '';

  it('builds FROM, RUN, COPY, ENV, WORKDIR, CMD into an image that runs with its files, env and command', async () => {
    const output = await ok(['build', '-t', 'app:1', context]);
    expect(output).toContain('STEP 1/8: FROM demo');
    expect(output).toContain('STEP 4/8: RUN mkdir -p /var/log/app');
    expect(output).toContain('step output\n');
    expect(output).toContain('COMMIT app:1');
    expect(output).toContain('Successfully tagged app:1');
    firstId = output.trim().split('\n').at(-1)!;
    expect(firstId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(steps(output).some((step) => step.cached)).toBe(false);

    expect(await ok(['run', '--rm', 'app:1'])).toBe('hello from RUN\nconfig v1\nproduction\n/srv/app\n');
    const files = await ok([
      'run',
      '--rm',
      'app:1',
      'sh',
      '-c',
      'find /srv/app | sort; stat -c %a /srv/app/main.sh; echo $APP_HOME; echo "[$GREETING]"',
    ]);
    // .dockerignore kept debug.log out; the ARG is not in the image's environment.
    expect(files).toBe('/srv/app\n/srv/app/lib\n/srv/app/lib/util.sh\n/srv/app/main.sh\n755\n/srv/app\n[]\n');
    const config = JSON.parse(await ok(['image', 'inspect', 'app:1']))[0] as {
      Config: { Env: string[]; WorkingDir: string; Cmd: string[] };
    };
    expect(config.Config.Env).toEqual(expect.arrayContaining(['APP_HOME=/srv/app', 'MODE=production']));
    expect(config.Config.WorkingDir).toBe('/srv/app');
    // One layer per filesystem step, on top of the base image's layer.
    const tree = JSON.parse(await ok(['image', 'tree', '--json', 'app:1'])) as {
      layers: Array<{ createdBy: string }>;
    };
    expect(tree.layers.map((layer) => layer.createdBy)).toEqual([
      'gantry image from-host',
      expect.stringMatching(/^RUN \/bin\/sh -c mkdir -p \/var\/log\/app/),
      'COPY app/ ./',
      'COPY config.txt /etc/app/config.txt',
    ]);
    // The build's containers are gone, and so is its work directory.
    expect(await ok(['ps', '-aq'])).toBe('');
    expect(fs.readdirSync(path.join(engine.root, 'tmp'))).toEqual([]);
  });

  it('rebuilds entirely from the cache: every step CACHED, the same image', async () => {
    const output = await ok(['build', '-t', 'app:1', context]);
    const result = steps(output);
    expect(result.slice(1).every((step) => step.cached)).toBe(true);
    expect(output).not.toMatch(/^step output$/m);
    expect(output.trim().split('\n').at(-1)).toBe(firstId);
  });

  it('reads the Containerfile from stdin with -f -, from the same cache', async () => {
    const result = await engine.gantry(['build', '-f', '-', context], { input: CONTAINERFILE });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(
      steps(result.stdout)
        .slice(1)
        .every((step) => step.cached),
    ).toBe(true);
    expect(result.stdout.trim().split('\n').at(-1)).toBe(firstId);
    const bad = await engine.gantry(['build', '-f', '-', context], { input: 'FROM demo\nBOGUS x\n' });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain('<stdin>:2: unknown instruction "BOGUS"');
  });

  it('after a late COPY source changes, reuses every earlier layer and rebuilds from there', async () => {
    const before = JSON.parse(await ok(['image', 'tree', '--json', 'app:1'])) as {
      layers: Array<{ chainId: string }>;
    };
    fs.writeFileSync(path.join(context, 'config.txt'), 'config v2\n');
    const output = await ok(['build', '-t', 'app:2', context]);
    expect(steps(output).map((step) => step.cached)).toEqual([
      false,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(await ok(['run', '--rm', 'app:2', 'cat', '/etc/app/config.txt'])).toBe('config v2\n');
    const after = JSON.parse(await ok(['image', 'tree', '--json', 'app:2'])) as {
      layers: Array<{ chainId: string }>;
    };
    expect(after.layers.slice(0, 3).map((layer) => layer.chainId)).toEqual(
      before.layers.slice(0, 3).map((layer) => layer.chainId),
    );
    expect(after.layers[3]!.chainId).not.toBe(before.layers[3]!.chainId);
  });

  it('--no-cache runs every step again', async () => {
    const output = await ok(['build', '--no-cache', '-t', 'app:fresh', context]);
    expect(steps(output).some((step) => step.cached)).toBe(false);
    expect(output).toMatch(/^step output$/m);
    // A RUN step gives new files (new mtimes), so a new layer.
    const fresh = JSON.parse(await ok(['image', 'tree', '--json', 'app:fresh'])) as {
      layers: Array<{ chainId: string }>;
    };
    const cached = JSON.parse(await ok(['image', 'tree', '--json', 'app:2'])) as {
      layers: Array<{ chainId: string }>;
    };
    expect(fresh.layers[0]!.chainId).toBe(cached.layers[0]!.chainId);
    expect(fresh.layers[1]!.chainId).not.toBe(cached.layers[1]!.chainId);
  });

  it('shares the base and the common steps of two different images on disk (one directory per ChainID)', async () => {
    const other = path.join(temp, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(
      path.join(other, 'Dockerfile'),
      [
        'FROM demo',
        'ARG GREETING=hello',
        'ENV APP_HOME=/srv/app \\',
        '    MODE=production',
        'RUN mkdir -p /var/log/app && echo "$GREETING from RUN" > /var/log/app/built.txt && echo step output',
        'RUN echo second > /second.txt',
      ].join('\n'),
    );
    const output = await ok(['build', '-t', 'other:1', other]);
    // The same first steps on the same base: the first layer is "already baked".
    expect(steps(output).map((step) => step.cached)).toEqual([false, true, true, true, false]);
    // The cache holds the newest result of each step: the --no-cache build's.
    const appLayers = (
      JSON.parse(await ok(['image', 'tree', '--json', 'app:fresh'])) as { layers: Array<{ chainId: string }> }
    ).layers;
    const otherLayers = (
      JSON.parse(await ok(['image', 'tree', '--json', 'other:1'])) as {
        layers: Array<{ chainId: string; size: number }>;
      }
    ).layers;
    expect(otherLayers[0]!.chainId).toBe(appLayers[0]!.chainId);
    expect(otherLayers[1]!.chainId).toBe(appLayers[1]!.chainId);
    const directories = layerDirectories();
    expect(directories.filter((name) => `sha256:${name}` === appLayers[1]!.chainId)).toHaveLength(1);
    const rows = await images();
    const row = rows.find((candidate) => candidate.Repository === 'other')!;
    expect(row.UniqueSize).toBe(otherLayers[2]!.size);
    expect(row.SharedSize).toBe(otherLayers[0]!.size + otherLayers[1]!.size);
    expect(row.Size).toBe(row.SharedSize + row.UniqueSize);
  });

  it('ADD extracts local tar archives; --chown, --chmod and --build-arg apply', async () => {
    const addContext = path.join(temp, 'add');
    fs.mkdirSync(path.join(addContext, 'tree', 'inner'), { recursive: true });
    fs.writeFileSync(path.join(addContext, 'tree', 'inner', 'x.txt'), 'from the archive\n');
    execFileSync('tar', [
      '-czf',
      path.join(addContext, 'bundle.tar.gz'),
      '-C',
      path.join(addContext, 'tree'),
      '.',
    ]);
    fs.writeFileSync(path.join(addContext, 'plain.txt'), 'plain\n');
    fs.writeFileSync(
      path.join(addContext, 'Containerfile'),
      [
        'FROM demo',
        'ARG TARGET=/default',
        'ADD bundle.tar.gz $TARGET/',
        'COPY --chown=nobody:nogroup --chmod=600 plain.txt /owned.txt',
        'ADD plain.txt /not-extracted.txt',
        // A pattern that matches nothing is fine beside a source that gives something.
        'COPY nomatch* plain.txt /both/',
      ].join('\n'),
    );
    const output = await ok([
      'build',
      '--build-arg',
      'TARGET=/opt/bundle',
      '--build-arg',
      'UNUSED=1',
      '-t',
      'added:1',
      addContext,
    ]);
    const result = await engine.gantry([
      'build',
      '-q',
      '--build-arg',
      'UNUSED=1',
      '-t',
      'added:1',
      '--build-arg',
      'TARGET=/opt/bundle',
      addContext,
    ]);
    expect(result.stderr).toContain('WARNING: one or more build args were not consumed: UNUSED');
    expect(result.stdout.trim()).toBe(output.trim().split('\n').at(-1));
    expect(
      await ok([
        'run',
        '--rm',
        'added:1',
        'sh',
        '-c',
        'cat /opt/bundle/inner/x.txt; stat -c "%u:%g %a" /owned.txt; cat /not-extracted.txt /both/plain.txt',
      ]),
    ).toBe('from the archive\n65534:65534 600\nplain\nplain\n');
  });

  it('refuses bad Containerfiles and failing steps clearly, leaving no image, layer, cache record or container', async () => {
    const bad = path.join(temp, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(temp, 'outside.txt'), 'outside\n');
    const before = storeContent(engine.root);
    const cases: Array<{ file: string; expected: RegExp[] }> = [
      {
        file: 'FROM demo\nRUN true\n\nRUNN false\n',
        expected: [/Containerfile:4: unknown instruction "RUNN"/, /hint: accepted: FROM, RUN/],
      },
      { file: '# only a comment\nRUN true\n', expected: [/Containerfile:2: there is no FROM instruction/] },
      {
        file: 'FROM demo\nRUN echo one > /one\nCOPY ../outside.txt /x\n',
        expected: [/Containerfile:3 COPY\): COPY \.\.\/outside\.txt: the path is outside the build context/],
      },
      {
        file: 'FROM demo\nRUN echo one > /one\nRUN echo failing; exit 3\nRUN echo never\n',
        expected: [
          /step 3\/4 \(Containerfile:3 RUN\): the command "\/bin\/sh -c echo failing; exit 3" returned a non-zero code: 3/,
        ],
      },
      {
        file: 'FROM not-here:1\nRUN true\n',
        expected: [/FROM not-here:1: the image is not in the local store/, /hint: import it .* or pull it/],
      },
      {
        file: 'FROM demo\nCOPY nomatch* alsonot* /x/\n',
        expected: [/COPY nomatch\*: no file in the build context matches/],
      },
      {
        file: 'FROM demo\nCOPY missing.txt /\n',
        expected: [/COPY missing\.txt: no such file or directory in the build context/],
      },
      {
        file: 'FROM demo\nADD git@example.invalid:x/y.git /\n',
        expected: [/only http:\/\/ and https:\/\/ URLs can be downloaded/],
      },
    ];
    for (const { file, expected } of cases) {
      fs.writeFileSync(path.join(bad, 'Containerfile'), file);
      const result = await engine.gantry(['build', '-t', 'bad:1', bad]);
      expect(result.exitCode, file).toBe(1);
      for (const pattern of expected) expect(result.stderr, file).toMatch(pattern);
      expect(await ok(['ps', '-aq'])).toBe('');
    }
    const failing = await engine.gantry(['build', '-t', 'bad:1', bad]);
    expect(failing.stdout).not.toContain('COMMIT');
    expect(storeContent(engine.root)).toEqual(before);
    expect(fs.readdirSync(path.join(engine.root, 'tmp'))).toEqual([]);
    expect((await images()).some((row) => row.Repository === 'bad')).toBe(false);
    const noContext = await engine.gantry(['build', path.join(temp, 'does-not-exist')]);
    expect(noContext.exitCode).toBe(1);
    expect(noContext.stderr).toContain('does not exist');
    const badArg = await engine.gantry(['build', '--network', 'bridge', context]);
    expect(badArg.stderr).toContain('accepted are none and host');
  });

  it('removes the step container a build killed with SIGKILL left behind, at the next command', async () => {
    const killed = path.join(temp, 'killed');
    fs.mkdirSync(killed);
    fs.writeFileSync(path.join(killed, 'Containerfile'), 'FROM demo\nRUN sleep 30\n');
    const build = engine.spawn(['build', '--no-cache', killed]);
    // The step container is listed from its record on; wait until it runs in its cgroup too.
    const orphan = await waitFor(
      async () => {
        const id = (await ok(['ps', '-aq', '--no-trunc'])).trim();
        return id && cgroupDirectories(path.join(engine.cgroupParent, id)).length > 0 ? id : undefined;
      },
      60_000,
      'the RUN step container in its cgroup',
    );
    process.kill(build.pid!, 'SIGKILL'); // the build process only, as kill -9 of it would
    await build;
    // Its directory, monitor and cgroup are still there: the build died, nothing cleaned up.
    expect(fs.existsSync(path.join(engine.root, 'containers', orphan))).toBe(true);
    expect(cgroupDirectories(path.join(engine.cgroupParent, orphan))).not.toEqual([]);
    // The next gantry command (here ps) undoes what the journal says the killed build left.
    expect((await ok(['ps', '-aq', '--no-trunc'])).trim()).toBe('');
    expect(fs.existsSync(path.join(engine.root, 'containers', orphan))).toBe(false);
    expect(cgroupDirectories(path.join(engine.cgroupParent, orphan))).toEqual([]);
    fs.writeFileSync(path.join(killed, 'Containerfile'), 'FROM demo\nRUN true\n');
    const id = (await ok(['build', '-q', killed])).trim();
    expect(await ok(['ps', '-aq'])).toBe('');
    await ok(['rmi', id]);
  });

  it('image prune removes dangling images and the layers only they used; -a removes every unused image', async () => {
    // Building app:fresh again without the cache takes the name off the image that had it.
    await ok(['build', '--no-cache', '-q', '-t', 'app:fresh', context]);
    const before = await images();
    const dangling = before.filter((row) => row.Repository === '<none>');
    expect(dangling).toHaveLength(1);
    const refused = await engine.gantry(['image', 'prune']);
    expect(refused.exitCode).toBe(0);
    expect((await images()).length).toBe(before.length);
    const pruned = JSON.parse(await ok(['image', 'prune', '-f', '--json'])) as {
      deleted: Array<{ id: string }>;
      reclaimedBytes: number;
    };
    expect(pruned.deleted.map((image) => image.id).sort()).toEqual(dangling.map((row) => row.Id).sort());
    expect(pruned.reclaimedBytes).toBeGreaterThan(0);
    const after = await images();
    expect(after.some((row) => row.Repository === '<none>')).toBe(false);
    // Every layer left is used by an image.
    const used = new Set<string>();
    for (const row of after) {
      const tree = JSON.parse(await ok(['image', 'tree', '--json', row.Id])) as {
        layers: Array<{ chainId: string }>;
      };
      for (const layer of tree.layers) used.add(layer.chainId.slice(7));
    }
    expect(layerDirectories()).toEqual([...used].sort());

    await ok(['create', '--name', 'keeper', 'app:2']);
    const all = await ok(['image', 'prune', '-a', '-f']);
    expect(all).toMatch(/Total reclaimed space: \S+/);
    expect((await images()).map((row) => `${row.Repository}:${row.Tag}`)).toEqual(['app:2']);
    await ok(['rm', 'keeper']);
  });
});
