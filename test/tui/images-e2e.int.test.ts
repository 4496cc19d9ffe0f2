/**
 * The Images pane's actions in the real `gantry` TUI, in a real terminal (tmux), on the real
 * engine (issue 11, "Missing: pull and build from the TUI ... image remove with the in-use
 * check"): `b` builds a small image with the progress `gantry build` prints, names the step
 * that failed, and a cancelled build leaves no image, step container or cgroup; `P` pulls from a
 * real registry (Debian's docker-registry) that this test runs on 127.0.0.1 inside a network
 * namespace it made, where the TUI runs too; `D` removes an unused image and refuses one a
 * container uses, naming the container.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cgroupDirectories,
  createEngineWithImage,
  createTestEngine,
  GANTRY,
  testName,
  waitFor,
  type TestEngine,
} from '../support/engine.js';
import { startTmux, type TmuxSession } from '../../scripts/lib/tmux.mjs';
import { describeUnless, needsCommand, needsRoot } from '../support/skip.js';

interface ImageRow {
  Repository: string;
  Tag: string;
  Id: string;
}

/** The TUI of `engine` in tmux, inside the engine's own network namespace. */
function openTui(engine: TestEngine, label: string): TmuxSession {
  return startTmux(['nsenter', `--net=/run/netns/${engine.netns}`, '--', process.execPath, GANTRY], {
    env: { ...engine.env, GANTRY_DEFAULT_NETWORK: '' },
    columns: 140,
    rows: 36,
    label,
  });
}

async function images(engine: TestEngine): Promise<ImageRow[]> {
  const listed = await engine.gantry(['image', 'ls', '--json']);
  expect(listed.exitCode, listed.stderr).toBe(0);
  return JSON.parse(listed.stdout) as ImageRow[];
}

async function quit(tui: TmuxSession): Promise<void> {
  tui.send('q');
  expect(await tui.waitFor('GANTRY_EXIT=', 60_000, 'gantry to exit')).toContain('GANTRY_EXIT=0');
}

describeUnless([needsRoot(), needsCommand('tmux')], 'gantry TUI Images pane: build and remove (tmux)', () => {
  let engine: TestEngine;
  let tui: TmuxSession | undefined;
  let temp: string;

  beforeAll(async () => {
    engine = await createEngineWithImage('tui-images');
    temp = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('tui-build')}-`));
  });
  afterAll(async () => {
    tui?.kill();
    await engine?.cleanup();
    if (temp) fs.rmSync(temp, { recursive: true, force: true });
  });

  it('builds an image with the CLI progress, names a failed step, and a cancelled build leaves nothing', async () => {
    const context = path.join(temp, 'app');
    fs.mkdirSync(context);
    fs.writeFileSync(path.join(context, 'hello.txt'), 'hello from the context\n');
    fs.writeFileSync(
      path.join(context, 'Containerfile'),
      'FROM demo\nCOPY hello.txt /hello.txt\nRUN echo built-in-the-tui > /marker && echo step-output-seen\n',
    );
    fs.writeFileSync(path.join(context, 'Failing'), 'FROM demo\nRUN echo before-failing && false\n');
    fs.writeFileSync(
      path.join(context, 'Slow'),
      'FROM demo\nRUN echo slow-step-started && exec sleep 987654\n',
    );

    tui?.kill();
    tui = openTui(engine, 'tui-build');
    await tui.waitFor(/NAME.*STATUS/, 60_000, 'the Containers pane');
    tui.send('2');
    await tui.waitFor(/demo:latest/, 60_000);
    tui.send('b');
    await tui.waitFor('Build an image', 60_000);
    tui.type(context);
    tui.send('Tab');
    tui.type('tui-built:v1');
    tui.send('Enter');
    // The CLI's words: the steps, the RUN step's own output, the commit, the tag.
    await tui.waitFor('built tui-built:v1', 120_000, 'the build to end');
    const screen = tui.capture();
    expect(screen).toContain('STEP 1/3: FROM demo');
    expect(screen).toContain('STEP 3/3: RUN echo built-in-the-tui');
    expect(screen).toMatch(/^\s*step-output-seen\s*$/m);
    expect(screen).toContain('COMMIT tui-built:v1');
    expect(screen).toContain('Successfully tagged tui-built:v1');
    const built = (await images(engine)).find((row) => row.Repository === 'tui-built' && row.Tag === 'v1');
    expect(built).toBeDefined();
    // The image is real: a container of it has the file the RUN step wrote and the COPY.
    const ran = await engine.gantry([
      'run',
      '--rm',
      '--network',
      'none',
      'tui-built:v1',
      'cat',
      '/marker',
      '/hello.txt',
    ]);
    expect(ran.exitCode, ran.stderr).toBe(0);
    expect(ran.stdout).toBe('built-in-the-tui\nhello from the context\n');

    // A failing RUN step: named with its STEP line and its exit code; no image is made.
    const before = (await images(engine)).length;
    // The focus is on Tag: Tab to the Containerfile, then Up to clear the tag.
    tui.send('Tab');
    tui.type(path.join(context, 'Failing'));
    tui.send('Up');
    tui.send('C-u');
    tui.send('Enter');
    await tui.waitFor(/build failed at STEP 2\/2: RUN echo before-failing && false: step 2\/2/, 120_000);
    await tui.waitFor(/returned a non-zero\s+code: 1/, 60_000);
    expect(tui.capture()).toMatch(/^\s*before-failing\s*$/m);
    expect((await images(engine)).length).toBe(before);

    // A slow build, cancelled with Esc once its step container runs: the container, its process
    // and its cgroup go, and no image is made.
    tui.send('Tab', 'C-u');
    tui.type(path.join(context, 'Slow'));
    tui.send('Enter');
    await tui.waitFor('slow-step-started', 120_000);
    const step = (
      await waitFor(
        async () => (await engine.gantry(['ps', '-aq', '--no-trunc'])).stdout.trim() || undefined,
        60_000,
        'the RUN step container',
      )
    ).split('\n')[0]!;
    expect(cgroupDirectories(path.join(engine.cgroupParent, step))).not.toEqual([]);
    tui.send('Escape');
    await tui.waitFor('build cancelled: nothing of it was kept', 120_000);
    expect((await engine.gantry(['ps', '-aq', '--no-trunc'])).stdout.trim()).toBe('');
    expect(fs.existsSync(path.join(engine.root, 'containers', step))).toBe(false);
    expect(cgroupDirectories(path.join(engine.cgroupParent, step))).toEqual([]);
    expect((await images(engine)).length).toBe(before);

    tui.send('Escape');
    await tui.waitFor(/tui-built:v1/, 60_000);
    await quit(tui);
    tui.kill();
    tui = undefined;
  }, 900_000);

  it('removes an unused image, and refuses one a container uses, naming the container', async () => {
    const context = path.join(temp, 'spare');
    fs.mkdirSync(context);
    fs.writeFileSync(path.join(context, 'Containerfile'), 'FROM demo\nRUN echo spare > /spare\n');
    const spare = await engine.gantry(['build', '-q', '-t', 'spare:v1', context]);
    expect(spare.exitCode, spare.stderr).toBe(0);
    const user = await engine.gantry(['create', '--name', 'demo-user', '--network', 'none', 'demo', 'true']);
    expect(user.exitCode, user.stderr).toBe(0);

    tui?.kill();
    tui = openTui(engine, 'tui-rmi');
    await tui.waitFor('demo-user', 60_000);
    tui.send('2', '/');
    tui.type('demo:latest');
    tui.send('Enter');
    await tui.waitFor(/filter.*demo:latest/, 60_000);
    tui.send('D');
    await tui.waitFor(/Remove image demo:latest/, 60_000);
    tui.send('y');
    await tui.waitFor(/remove image demo:latest: image .*is used by container demo-user/, 60_000);
    expect((await images(engine)).some((row) => row.Repository === 'demo')).toBe(true);

    tui.send('/', 'C-u');
    tui.type('spare');
    tui.send('Enter');
    tui.send('D');
    await tui.waitFor(/Remove image spare:v1/, 60_000);
    tui.send('y');
    await tui.waitFor('image spare:v1 removed', 60_000);
    expect((await images(engine)).some((row) => row.Repository === 'spare')).toBe(false);
    await quit(tui);
    tui.kill();
    tui = undefined;
  }, 600_000);
});

describeUnless(
  [needsRoot(), needsCommand('tmux'), needsCommand('docker-registry')],
  'gantry TUI pull from a real registry in a test network namespace (tmux)',
  () => {
    let pusher: TestEngine;
    let puller: TestEngine;
    let registry: ChildProcess | undefined;
    let registryDir: string;
    let tui: TmuxSession | undefined;

    beforeAll(async () => {
      pusher = await createEngineWithImage('tui-push');
      puller = await createTestEngine('tui-pull');
      registryDir = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('tui-registry')}-`));
    });
    afterAll(async () => {
      tui?.kill();
      if (registry?.pid !== undefined && registry.exitCode === null) {
        const exited = new Promise((resolve) => registry!.once('exit', resolve));
        process.kill(registry.pid, 'SIGTERM');
        await exited;
      }
      await puller?.cleanup();
      await pusher?.cleanup();
      if (registryDir) fs.rmSync(registryDir, { recursive: true, force: true });
    });

    it('pulls an image pushed to the registry: progress, then in the Images pane and in gantry images', async () => {
      // The registry listens on 127.0.0.1 of the puller's namespace (made by the test, lo up):
      // any port is free there.
      const address = '127.0.0.1:5000';
      const config = path.join(registryDir, 'config.yml');
      fs.writeFileSync(
        config,
        `version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(registryDir, 'storage')}\n` +
          `http:\n  addr: ${address}\n  secret: ${randomBytes(16).toString('hex')}\n`,
      );
      const log = path.join(registryDir, 'registry.log');
      const output = fs.openSync(log, 'w');
      registry = spawn(
        'nsenter',
        [`--net=/run/netns/${puller.netns}`, '--', 'docker-registry', 'serve', config],
        {
          stdio: ['ignore', output, output],
        },
      );
      fs.closeSync(output);
      await waitFor(
        () => {
          if (registry!.exitCode !== null)
            throw new Error(`docker-registry exited:\n${fs.readFileSync(log, 'utf8')}`);
          return /listening on 127\.0\.0\.1:5000/.test(fs.readFileSync(log, 'utf8')) || undefined;
        },
        60_000,
        'docker-registry to listen',
      );

      // gantry push from the pusher's store, run inside the puller's namespace (the registry's).
      const reference = `${address}/tui/demo:v1`;
      const pushedHere = await execa(
        'nsenter',
        [`--net=/run/netns/${puller.netns}`, '--', GANTRY, 'push', 'demo', reference],
        { env: pusher.env, reject: false, stdin: 'ignore' },
      );
      expect(pushedHere.exitCode, String(pushedHere.stderr)).toBe(0);
      expect(String(pushedHere.stdout)).toMatch(/: Pushed\n/);
      expect((await images(puller)).length).toBe(0);

      tui = openTui(puller, 'tui-pull');
      // An empty store: the onboarding offer comes first; not now.
      await tui.waitFor(/gantry-host:latest/, 60_000, 'the onboarding offer');
      tui.send('Escape');
      tui.send('2', 'P');
      await tui.waitFor('Pull an image', 60_000);
      tui.type(reference);
      tui.send('Enter');
      await tui.waitFor(`pulled ${reference}`, 120_000, 'the pull to end');
      // The CLI's progress lines, one per layer.
      const progress = tui.capture();
      expect(progress).toContain(`Pulling from ${reference}`);
      // Each layer ends as docker ends it, verified and unpacked.
      expect(progress).toMatch(/[0-9a-f]{12}: Pull complete/);
      tui.send('Escape');
      await tui.waitFor(
        new RegExp(`${address.replace(/\./g, '\\.')}/tui/demo:v1`),
        60_000,
        'the image in the pane',
      );
      const pulled = await images(puller);
      expect(pulled.map((row) => `${row.Repository}:${row.Tag}`)).toEqual([reference]);
      // The same image as the one pushed.
      const original = (await images(pusher)).find((row) => row.Repository === 'demo')!;
      expect(pulled[0]!.Id).toBe(original.Id);
      await quit(tui);
      tui.kill();
      tui = undefined;
    }, 600_000);
  },
);
