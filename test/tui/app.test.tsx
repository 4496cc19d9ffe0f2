import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../source/tui/config.js';
import type { LayerTreeSource } from '../../source/tui/layers/layer-tree-source.js';
import { directory, file, fileTree } from '../support/file-tree.js';
import { FakeEngine } from './support/fake-engine.js';
import { container, image, layer } from './support/fixtures.js';
import { KEYS, renderTui, settle } from './support/render.js';

const MIB = 1024 * 1024;
let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup) step();
  cleanup = [];
});

function setup(
  records = [
    container('web', { resources: { memory: 256 * MIB, pidsLimit: 100 } }),
    container('db'),
    container('old', { status: 'exited', exitCode: 137 }),
  ],
  options: Parameters<typeof renderTui>[1] = {},
) {
  const engine = new FakeEngine(records, [image('demo', [layer('a', 2_000_000)])]);
  const app = renderTui(engine, options);
  cleanup.push(
    () => app.unmount(),
    () => engine.cleanup(),
  );
  return { engine, app };
}

describe('Containers pane', () => {
  it('shows every container with status, exit code and live figures in 80x24', async () => {
    const { app } = setup();
    const frame = await app.waitFor('12.5%');
    const lines = frame.split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    expect(lines.every((line) => line.length <= 80)).toBe(true);
    expect(frame).toMatch(/NAME.*STATUS.*CPU%.*MEM\/LIMIT.*PIDS/);
    expect(frame).toMatch(/web\s+demo\s+● running\s+1m\s+12.5%\s+32M\/256M\s+3\/100/);
    expect(frame).toMatch(/old\s+demo\s+✖ exited \(137\)/);
    expect(frame).toMatch(/s start\/stop\s+p pause/);
  });

  it('filters with / and keeps the filter with Enter', async () => {
    const { app } = setup();
    await app.waitFor('web');
    await app.press('/', 'w', 'e');
    expect(app.frame()).toContain('/filter we');
    expect(app.frame()).not.toMatch(/^ db /m);
    await app.press(KEYS.enter);
    expect(app.store.getState().containers.filter).toEqual({ text: 'we', editing: false });
    expect(app.frame()).toMatch(/web\s+● running/);
  });

  it('stops the selected container with s and says so', async () => {
    const { app, engine } = setup();
    await app.waitFor('db');
    await app.press('s');
    await app.waitFor('db stopped');
    expect(engine.calls).toContain('stop db');
    expect(app.frame()).toMatch(/db\s+demo\s+■ exited \(0\)/);
  });

  it('asks before killing, and kills on y', async () => {
    const { app, engine } = setup();
    await app.waitFor('db');
    await app.press('K');
    expect(app.frame()).toMatch(/Kill db \(SIGKILL\)\?\s+y\/N/);
    expect(engine.calls).toEqual([]);
    await app.press('y');
    await app.waitFor('db killed');
    expect(engine.calls).toContain('kill db SIGKILL');
  });

  it('does not remove an image containers use, and says which', async () => {
    const { app, engine } = setup();
    await app.waitFor('db');
    await app.press('2');
    await app.waitFor('demo:latest');
    await app.press('D');
    await app.press('y');
    await app.waitFor('✖ remove image demo:latest');
    expect(engine.calls.filter((call) => call.startsWith('rmi'))).toEqual([]);
  });

  it('pauses and unpauses with p', async () => {
    const { app, engine } = setup();
    await app.waitFor('db');
    await app.press('p');
    await app.waitFor('‖ paused');
    await app.press('p');
    await app.waitFor('db unpaused');
    expect(engine.calls).toEqual(['pause db', 'unpause db']);
  });
});

describe('help overlay and keymap', () => {
  it('lists the keys from the keymap, remapped ones included', async () => {
    const config = parseConfig(JSON.stringify({ keys: { 'container.kill': 'X' } }), 'test.json');
    const { app } = setup(undefined, { keymap: config.keymap, size: { columns: 120, rows: 40 } });
    await app.waitFor('web');
    expect(app.frame()).toContain('X kill');
    await app.press('?');
    const frame = app.frame();
    expect(frame).toMatch(/X\s+Kill the container \(asks first\)/);
    expect(frame).toContain('Everywhere');
    await app.press(KEYS.escape);
    await settle(30);
    expect(app.frame()).not.toContain('Everywhere');
  });
});

describe('Limits pane', () => {
  it('shows limits beside live use and applies a typed value', async () => {
    const { app, engine } = setup();
    await app.waitFor('web');
    await app.press('j', 'j', KEYS.enter);
    const frame = await app.waitFor(/memory\s+256M/);
    expect(frame).toContain('Limits of web');
    expect(frame).toMatch(/pids\s+100/);
    await app.waitFor('32M used');
    await app.press(KEYS.enter, '5', '1', '2', 'm');
    expect(app.frame()).toContain('Enter applies (--memory)');
    await app.press(KEYS.enter);
    await app.waitFor('memory set to 512M');
    expect(engine.calls).toContain(`update web ${JSON.stringify({ memory: 512 * MIB })}`);
    await app.waitFor(/memory\s+512M/);
  });

  it('shows why a value was refused and keeps the old one', async () => {
    const { app, engine } = setup();
    engine.refuseUpdate = 'memory+swap limit 536870912 is below the memory limit';
    await app.waitFor('web');
    await app.press('j', 'j', KEYS.enter, KEYS.enter, KEYS.ctrlU, '1', 'g', KEYS.enter);
    await app.waitFor('✖ memory+swap limit 536870912 is below the memory limit');
    expect(app.frame()).toContain('the old value stays');
    await app.press(KEYS.escape);
    await app.waitFor(/memory\s+256M/);
  });
});

describe('Limits pane edits (issue 11, defects 2 and 10)', () => {
  it('typing replaces the prefilled value, and a 10x loosening is shown before Enter', async () => {
    const { app, engine } = setup([container('web', { resources: { pidsLimit: 50 } })]);
    await app.waitFor('web');
    await app.press(KEYS.enter);
    await app.waitFor(/pids\s+50/);
    for (let row = 0; row < 6; row += 1) await app.press('j');
    await app.press(KEYS.enter, '2', '0', '0', '0');
    const frame = await app.waitFor('pids 50 → 2000: 40x looser');
    expect(frame).toMatch(/pids\s+2000/);
    await app.press(KEYS.ctrlU, '2', '0');
    expect(app.frame()).not.toContain('looser');
    expect(app.frame().replace(/\n\s+/g, ' ')).toContain(
      'a number of processes, e.g. 100; empty, -1 or unlimited = no limit',
    );
    await app.press(KEYS.enter);
    await app.waitFor('pids set to 20');
    expect(engine.calls).toContain(`update web ${JSON.stringify({ pidsLimit: 20 })}`);
  });

  it('says so when the container shown is removed elsewhere, and applies nothing', async () => {
    const { app, engine } = setup();
    await app.waitFor('web');
    await app.press('j', 'j', KEYS.enter);
    await app.waitFor('Limits of web');
    await app.press(KEYS.enter, '4', '8', 'm');
    const web = [...engine.records.values()].find((record) => record.Name === 'web')!;
    engine.records.delete(web.Id);
    app.store.dispatch({ type: 'containers/removed', id: web.Id });
    const frame = await app.waitFor('web was removed by another process.');
    expect(frame).toContain('The edit of memory 48m was not applied, to it or to any other container.');
    expect(frame).not.toMatch(/Limits of (db|old)/);
    await app.press(KEYS.enter);
    await settle(30);
    expect(engine.calls.filter((call) => call.startsWith('update'))).toEqual([]);
  });
});

describe('Images, Layers and Logs panes', () => {
  it('shows image sizes and opens the layer tree with change marks', async () => {
    const source: LayerTreeSource = {
      stack: async (subject) => ({
        subject,
        totalBytes: 2000,
        layers: [{ index: 0, digest: 'sha256:aa', size: 2000, createdBy: 'ADD rootfs' }],
      }),
      analyze: async () => ({
        efficiency: 0.9,
        wastedBytes: 1234,
        inefficiencies: [
          { path: '/etc/passwd', count: 2, cumulativeBytes: 1234, wastedBytes: 617, layers: [0] },
        ],
      }),
      tree: async () =>
        fileTree(
          directory('etc', 'unchanged', [file('hosts', 'removed', 10), file('passwd', 'modified', 20)]),
          file('new', 'added', 0),
        ),
    };
    const { app } = setup(undefined, { layerSource: source });
    await app.waitFor('web');
    await app.press('2');
    await app.waitFor(/demo:latest\s+1\s+1.9M/);
    await app.press(KEYS.enter);
    await app.waitFor('efficiency 90.0%');
    expect(app.frame()).toContain('wasted 1.2K');
    expect(app.frame()).toMatch(/2×\s+1.2K\s+\/etc\/passwd/);
    await app.press(KEYS.enter);
    const tree = await app.waitFor('Files of layer 1');
    expect(tree).toMatch(/D\s+10B\s+│\s+├─ hosts/);
    expect(tree).toMatch(/M\s+20B\s+│\s+└─ passwd/);
    expect(tree).toMatch(/A\s+0B\s+└─ new/);
    await app.press(KEYS.enter);
    expect(app.frame()).toMatch(/▸ etc\//);
    expect(app.frame()).not.toContain('passwd');
  });

  it('follows logs and searches them', async () => {
    const { app, engine } = setup();
    engine.logLines = Array.from({ length: 40 }, (_, index) => ({
      time: '2026-01-01T00:00:00Z',
      stream: 'stdout' as const,
      text: `line ${index} ${index === 7 ? 'needle' : ''}\n`,
    }));
    await app.waitFor('web');
    await app.press('5');
    await app.waitFor('line 39');
    expect(app.frame()).toContain('following');
    await app.press('/', 'n', 'e', 'e', 'd', 'l', 'e', KEYS.enter);
    const frame = await app.waitFor('"needle" 1/1');
    expect(frame).toContain('line 7 needle');
    expect(frame).not.toContain('line 39');
  });
});

describe('first run', () => {
  it('offers the default image, then the form to run a container from it', async () => {
    const engine = new FakeEngine([], []);
    const app = renderTui(engine);
    cleanup.push(
      () => app.unmount(),
      () => engine.cleanup(),
    );
    await app.waitFor('Welcome to Gantry');
    await app.press(KEYS.enter);
    await app.waitFor('Run a container from gantry-host:latest');
    expect(engine.calls).toEqual(['from-host gantry-host:latest']);
    // A start that fails keeps the form open with the error and leaves no container behind, so
    // the same name works on the next try.
    engine.startError = new Error('exec: "nope": executable file not found in $PATH');
    await app.press('f', 'i', 'r', 's', 't', KEYS.enter);
    await app.waitFor('executable file not found');
    expect((await engine.list()).records).toEqual([]);
    expect(engine.calls.at(-1)).toBe('remove first');
    engine.calls.length = 1;
    await app.press(KEYS.enter);
    await app.waitFor('first is running');
    expect(engine.calls).toEqual([
      'from-host gantry-host:latest',
      expect.stringMatching(/^create .*"name":"first"/),
      'start first',
    ]);
  });
});
