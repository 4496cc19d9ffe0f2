import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../source/runtime/errors.js';
import { memoryAmount } from '../../source/runtime/units.js';
import { configReport, parseConfig } from '../../source/tui/config.js';
import { describeError } from '../../source/tui/state/limit-definitions.js';
import type { LayerTreeSource } from '../../source/tui/layers/layer-tree-source.js';
import { directory, file, fileTree } from '../support/file-tree.js';
import { FakeEngine } from './support/fake-engine.js';
import { container, image, layer, sample } from './support/fixtures.js';
import { waitFor } from '../support/engine.js';
import { KEYS, renderTui, settle } from './support/render.js';

const MIB = 1024 * 1024;

// Whole renders on a shared, loaded machine take seconds; none of these waits for a clock.
vi.setConfig({ testTimeout: 30_000 });
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
    expect(frame).toMatch(/web\s+demo\s+● running\s+1m\s+12.5%\s+32MiB\/256MiB\s+3\/100/);
    expect(frame).toMatch(/old\s+demo\s+✖ exited \(137\)/);
    expect(frame).toMatch(/s start\/stop\s+p pause/);
  });

  it('shows a container whose record is damaged, marked, and removes it with D', async () => {
    const { app, engine } = setup();
    const id = 'd'.repeat(64);
    engine.damaged = [
      { id, name: 'broken', error: new Error(`the state of container ${id.slice(0, 12)} is damaged`) },
    ];
    const frame = await app.waitFor('damaged record');
    expect(frame).toMatch(/broken\s.*⚠ damaged record/);
    expect(frame).toMatch(/web\s+demo\s+● running/);
    await app.press('D');
    expect(app.frame()).toContain('Remove broken? Its record is damaged');
    await app.press('y');
    await app.waitFor('broken removed');
    expect(engine.calls).toContain('remove broken (damaged)');
  });

  it('finishes what killed gantry processes left at start, and again while operations are recorded', async () => {
    const { app, engine } = setup();
    await app.waitFor('web');
    expect(engine.recoveries).toBeGreaterThanOrEqual(1);
    engine.underWay = true;
    const before = engine.recoveries;
    fs.writeFileSync(path.join(engine.root, 'journal', 'remove.-.1.1'), '');
    // Once for the entry, then each second while operations are recorded.
    await waitFor(() => engine.recoveries > before + 1 || undefined, 10_000, 'two more recoveries');
    engine.underWay = false;
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
    const frame = await app.waitFor(/memory\s+256MiB/);
    expect(frame).toContain('Limits of web');
    expect(frame).toMatch(/pids\s+100/);
    await app.waitFor('32MiB used');
    await app.press(KEYS.enter, '5', '1', '2', 'm');
    expect(app.frame()).toContain('Enter applies (--memory)');
    await app.press(KEYS.enter);
    await app.waitFor('memory set to 512MiB');
    expect(engine.calls).toContain(`update web ${JSON.stringify({ memory: 512 * MIB })}`);
    await app.waitFor(/memory\s+512MiB/);
  });

  it("shows the container's user namespace mapping in its header, and nothing without one", async () => {
    const mapped = container('mapped');
    mapped.HostConfig.IDMappings = {
      UidMap: ['0:3100000:65536'],
      GidMap: ['0:3200000:65536'],
      RootfsMapping: 'idmapped',
    };
    const { app } = setup([mapped], { size: { columns: 140, rows: 30 } });
    await app.waitFor('mapped');
    await app.press(KEYS.enter);
    const frame = await app.waitFor('Limits of mapped');
    expect(frame).toContain('userns uid 0:3100000:65536 gid 0:3200000:65536');
    const plain = setup([container('plain')], { size: { columns: 140, rows: 30 } }).app;
    await plain.waitFor('plain');
    await plain.press(KEYS.enter);
    expect(await plain.waitFor('Limits of plain')).not.toContain('userns');
  });

  it('shows why a value was refused and keeps the old one', async () => {
    const { app, engine } = setup();
    engine.refuseUpdate = 'memory+swap limit 536870912 is below the memory limit';
    await app.waitFor('web');
    await app.press('j', 'j', KEYS.enter, KEYS.enter, KEYS.ctrlU, '1', 'g', KEYS.enter);
    await app.waitFor('✖ memory+swap limit 536870912 is below the memory limit');
    expect(app.frame()).toContain('the old value stays');
    await app.press(KEYS.escape);
    await app.waitFor(/memory\s+256MiB/);
  });
});

// Issue 11, defect 7.
describe('Limits charts', () => {
  it('keep the past against the limit of its time and mark the change', async () => {
    const web = container('web', { resources: { memory: 64 * MIB } });
    const { app } = setup([web], { size: { columns: 100, rows: 40 } });
    await app.waitFor('web');
    await app.press(KEYS.enter);
    await app.waitFor('Limits of web');
    const now = Date.now();
    for (let second = 0; second < 20; second += 1)
      app.store.dispatch({
        type: 'stats/sampled',
        samples: [
          sample(web, now + second * 1000, {
            memory: {
              usage: 40 * MIB,
              workingSet: 32 * MIB,
              limit: (second < 10 ? 64 : 128) * MIB,
              oomKills: 0,
            },
            cpu: { usageNanos: second * 5e8, throttledNanos: 0, throttledPeriods: 0 },
          }),
        ],
      });
    const frame = await app.waitFor('┊ 64MiB→128MiB');
    expect(frame).toContain('┈ limit 128MiB');
  });
});

// Issue 11, defect 5: a config with five problems showed part of the first, then nothing.
describe('messages', () => {
  it('keeps every message, in full, behind a key', async () => {
    const config = parseConfig(
      JSON.stringify({
        theme: 'neon',
        statsIntervalMs: 5,
        colour: 1,
        keys: { 'container.explode': 'x', 'app.quit': 'ctrl+shift+q' },
      }),
      '/home/someone/.config/gantry/config.json',
    );
    expect(config.warnings).toHaveLength(5);
    const { app } = setup();
    await app.waitFor('web');
    app.store.dispatch({ type: 'ui/status', text: configReport(config)!, level: 'error', time: Date.now() });
    const line = await app.waitFor('(m: all of it)');
    expect(line).toContain('config: 5 problems in /home/someone/');
    app.store.dispatch({ type: 'ui/status', text: 'db stopped', level: 'info', time: Date.now() });
    await app.waitFor('db stopped');
    await app.press('m');
    const log = await app.waitFor('Messages (2)');
    const text = log.replace(/\n\s+/g, ' ');
    for (const warning of config.warnings) expect(text).toContain(warning.replace(/^config: /, ''));
    expect(text).toContain('db stopped');
    expect(log.split('\n').every((row) => row.length <= 80)).toBe(true);
    await app.press(KEYS.escape);
    await settle(30);
    expect(app.frame()).not.toContain('Messages (2)');
  });
});

// Issue 11, defect 8.
describe('errors', () => {
  it('the new-container form shows every field’s problem at once, sizes with units', async () => {
    const { app, engine } = setup();
    await app.waitFor('web');
    await app.press('n');
    await app.waitFor('Run a container from');
    await app.press(KEYS.tab, "'", KEYS.tab, '2', 'm', KEYS.tab, '0', KEYS.tab, 'x', KEYS.enter);
    const frame = await app.waitFor('4 fields need changing');
    expect(frame).toContain('✖ the single quote is not closed');
    expect(frame).toContain('✖ memory 2m is below the minimum of 6m');
    expect(frame).toContain('✖ --cpus: invalid value "0"');
    expect(frame).toContain('✖ --pids-limit: "x" is not a whole number');
    expect(engine.calls.filter((call) => call.startsWith('create'))).toEqual([]);
  });

  it('a runtime refusal says sizes with units, and says once that the old value stays', async () => {
    const { app, engine } = setup();
    engine.refuseUpdate = new InvalidArgumentError(
      `memory limit ${memoryAmount(50 * MIB)} is below the container's current usage ${memoryAmount(109_219_840)} and the kernel could not reclaim enough; the old limit 256MiB stays`,
    );
    await app.waitFor('web');
    await app.press('j', 'j', KEYS.enter, KEYS.enter, '5', '0', 'm', KEYS.enter);
    const frame = (await app.waitFor('reclaim')).replace(/\n\s+/g, ' ');
    expect(frame).toContain(
      'memory limit 50MiB is below the container’s current usage 104.16MiB'.replace('’', "'"),
    );
    expect(frame.match(/stays/g)).toHaveLength(1);
  });

  it('a hint that repeats the message is not said twice', () => {
    expect(
      describeError(
        new InvalidArgumentError('--cpu-shares 1 is out of range', { hint: 'the range is 2 to 262144' }),
      ),
    ).toBe('--cpu-shares 1 is out of range; the range is 2 to 262144');
    expect(
      describeError(
        new InvalidArgumentError('--cpus 3 is more than the 2 CPUs this host has (0.01 to 2)', {
          hint: 'the range is 0.01 to 2',
        }),
      ),
    ).toBe('--cpus 3 is more than the 2 CPUs this host has (0.01 to 2)');
  });
});

// Issue 11, defect 3.
describe('sorting by a figure', () => {
  it('samples the containers off screen too, so a busy one rises to the top', async () => {
    const records = Array.from({ length: 40 }, (_, index) => container(`c${String(index).padStart(2, '0')}`));
    const { app, engine } = setup(records);
    engine.cpuPercent.set('c37', 95);
    await app.waitFor(/c00\s/, 10_000);
    await settle(50);
    expect(engine.sampled).not.toContain('c37');
    await app.press('C');
    await app.waitFor(/^ c37\s.*95\.0%/m, 10_000);
    const frame = app.frame();
    const rows = frame.split('\n').filter((line) => /^ c\d\d\s/.test(line));
    expect(rows[0]).toMatch(/^ c37\s/);
    expect(frame).toMatch(/CPU%▼/);
    // Figures older than one refresh are said in the header (here: a clock 200 s later).
    app.store.dispatch({ type: 'ui/tick', now: Date.now() + 200_000 });
    await app.waitFor(/CPU order: (figures ≤\d+s old|sampling…)/);
  }, 30_000);
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
    await app.waitFor(/demo:latest\s+1\s+2MB/);
    await app.press(KEYS.enter);
    await app.waitFor('efficiency 90.0%');
    expect(app.frame()).toContain('wasted 1.23kB');
    // The duplicates list has a header, and the CLI's figure: every copy but the smallest.
    expect(app.frame()).toMatch(/WASTED\s+COPIES\s+ALL COPIES\s+LAYERS\s+PATH/);
    expect(app.frame()).toMatch(/617B\s+2\s+1\.23kB\s+1\s+\/etc\/passwd/);
    await app.press(KEYS.enter);
    const tree = await app.waitFor('Files of layer 1');
    expect(tree).toMatch(/D\s+10B\s+│\s+├─ hosts/);
    expect(tree).toMatch(/M\s+20B\s+│\s+└─ passwd/);
    expect(tree).toMatch(/A\s+0B\s+└─ new/);
    await app.press(KEYS.enter);
    expect(app.frame()).toMatch(/▸ etc\//);
    expect(app.frame()).not.toContain('passwd');
  });

  // Issue 11, defect 11: a chmod-only change showed no reason, and no permission/owner columns.
  it('shows permission bits and owner columns, and says a chmod-only change is one', async () => {
    const source: LayerTreeSource = {
      stack: async (subject) => ({
        subject,
        totalBytes: 2000,
        layers: [
          {
            index: 0,
            digest: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
            size: 2000,
            createdBy: 'RUN chmod 600 /etc/shadow',
          },
        ],
      }),
      analyze: async () => ({ efficiency: 1, wastedBytes: 0, inefficiencies: [] }),
      tree: async () =>
        fileTree(
          directory(
            'etc',
            'unchanged',
            [
              file('shadow', 'modified', 20, {
                mode: 0o600,
                uid: 0,
                gid: 42,
                reasons: ['mode'],
                previous: { mode: 0o640, uid: 0, gid: 42 },
              }),
              file('tool', 'added', 5, { mode: 0o4755, uid: 1000, gid: 1000 }),
            ],
            { mode: 0o755, uid: 0, gid: 0 },
          ),
        ),
    };
    const { app } = setup(undefined, { layerSource: source, size: { columns: 140, rows: 40 } });
    await app.waitFor('web');
    await app.press('2');
    await app.waitFor(/demo:latest/);
    await app.press(KEYS.enter);
    // A wide terminal shows each layer's id whole in the detail, never cut mid-way.
    await app.waitFor('sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
    expect(app.frame()).toMatch(/ID\s+SIZE\s+CREATED BY/);
    // The column titles stand over their columns.
    const lines = app.frame().split('\n');
    const header = lines.find((line) => line.includes('CREATED BY'))!;
    const row = lines.find((line) => line.includes('0123456789ab  '))!;
    expect(row.indexOf('2kB') + 3).toBe(header.indexOf('SIZE') + 4);
    expect(row.indexOf('0123456789ab')).toBe(header.indexOf('ID'));
    await app.press(KEYS.enter);
    const tree = await app.waitFor('Files of layer 1');
    expect(tree).toMatch(/SIZE\s+MODE\s+UID:GID\s+PATH/);
    expect(tree).toMatch(/M\s+20B\s+-rw-------\s+0:42\s+├─ shadow\s+\(mode 640→600\)/);
    expect(tree).toMatch(/A\s+5B\s+-rwsr-xr-x\s+1000:1000\s+└─ tool/);
    expect(tree).toMatch(/drwxr-xr-x\s+0:0\s+└─ ▾ etc\//);
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
