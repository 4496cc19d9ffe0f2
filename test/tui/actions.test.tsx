/**
 * Container actions in the whole app over a fake engine (issue 11, "Missing"): a stop counts its
 * timeout down, several marked containers are acted on at once, and the inspect view.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeEngine } from './support/fake-engine.js';
import { container, image, layer } from './support/fixtures.js';
import { KEYS, renderTui, settle } from './support/render.js';

// Whole renders on a shared, loaded machine take seconds; only the countdown waits for a clock.
vi.setConfig({ testTimeout: 60_000 });
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

function setup(records = [container('web'), container('db'), container('old', { status: 'exited' })]) {
  const engine = new FakeEngine(records, [image('demo', [layer('a', 2_000_000)])]);
  const app = renderTui(engine, { size: { columns: 120, rows: 30 } });
  cleanup.push(
    () => app.unmount(),
    () => engine.cleanup(),
  );
  return { engine, app };
}

function messages(app: ReturnType<typeof renderTui>): string[] {
  return app.store.getState().ui.messages.map((message) => message.text);
}

describe('stop countdown', () => {
  it('counts the stop timeout down while the container has not exited', async () => {
    const slow = container('slow');
    slow.Config.StopTimeout = 30;
    const { app, engine } = setup([slow]);
    let release: () => void = () => undefined;
    engine.holdStop = new Promise((resolve) => (release = resolve));
    await app.waitFor('slow');
    await app.press('s');
    await app.waitFor('SIGTERM sent, SIGKILL in 30s if it has not exited by then');
    await app.waitFor(/slow\s.*◌ stopping \(30s\)/);
    // A second later the column says one second less (the time is awaited, not assumed).
    await app.waitFor(/slow\s.*◌ stopping \(29s\)/);
    release();
    await app.waitFor('slow stopped');
    expect(app.frame()).not.toContain('stopping (');
    expect(engine.calls).toEqual(['stop slow']);
  });
});

describe('bulk actions', () => {
  it('marks with Space, stops every marked one at once, and leaves the rest', async () => {
    const { app, engine } = setup([
      container('a-web'),
      container('b-db'),
      container('c-cache'),
      container('d-idle', { status: 'exited' }),
    ]);
    await app.waitFor('a-web');
    // Space marks and moves on: a-web and b-db marked, c-cache selected.
    await app.press(' ', ' ');
    let frame = await app.waitFor('2 marked');
    expect(frame).toMatch(/✓ a-web/);
    expect(frame).toMatch(/✓ b-db/);
    expect(frame).not.toMatch(/✓ c-cache/);
    await app.press('s');
    await app.waitFor(/a-web\s.*■ exited/);
    await app.waitFor(/b-db\s.*■ exited/);
    expect(engine.calls.sort()).toEqual(['stop a-web', 'stop b-db']);
    // The message log keeps what the status line said first (each stop said its own since).
    expect(messages(app)).toEqual(
      expect.arrayContaining(['stopping 2 containers: a-web and b-db', 'a-web stopped', 'b-db stopped']),
    );
    frame = app.frame();
    expect(frame).not.toContain('marked');
    expect(frame).toMatch(/c-cache\s.*● running/);
  });

  it('asks once before killing or removing every marked container, naming them', async () => {
    const { app, engine } = setup([
      container('a-web'),
      container('b-db'),
      container('c-old', { status: 'exited' }),
    ]);
    await app.waitFor('a-web');
    await app.press('*');
    await app.waitFor('3 marked');
    // Kill is for the running ones only.
    await app.press('K');
    await app.waitFor('Kill 2 containers (SIGKILL): a-web and b-db?');
    await app.press('n');
    expect(engine.calls).toEqual([]);
    await app.press('D');
    await app.waitFor('Remove 3 containers: a-web, b-db and c-old? 2 are running and will be killed first.');
    await app.press('y');
    await app.waitFor('No containers yet');
    expect(engine.calls.sort()).toEqual(['remove a-web', 'remove b-db', 'remove c-old']);
  });

  it('pauses the marked running ones; Esc unmarks; without marks keys act on the selected one', async () => {
    const { app, engine } = setup([
      container('a-web'),
      container('b-db'),
      container('c-old', { status: 'exited' }),
    ]);
    await app.waitFor('a-web');
    await app.press('*', 'p');
    await app.waitFor(/b-db\s.*‖ paused/);
    await app.waitFor(/a-web\s.*‖ paused/);
    expect(messages(app)).toContain(
      'pausing 2 containers: a-web and b-db; 1 container not running left as they are',
    );
    await app.press(' ');
    await app.waitFor('1 marked');
    await app.press(KEYS.escape);
    await app.waitFor(/^(?![\s\S]*marked)/);
    engine.calls.length = 0;
    await app.press('p');
    await settle(30);
    await app.waitFor(/unpaused/);
    expect(engine.calls).toHaveLength(1);
  });
});

describe('inspect view', () => {
  it('shows the container as JSON, scrolls, searches, and copies its id', async () => {
    const web = container('web', { resources: { memory: 64 * 1024 * 1024, pidsLimit: 50 } });
    web.Config.Env = ['PATH=/usr/bin', 'GREETING=hello'];
    const { app, engine } = setup([web]);
    await app.waitFor('web');
    await app.press('i');
    let frame = await app.waitFor(/Inspect web \(container\) [0-9a-f]{12}\s+lines 1-\d+ of \d+/);
    expect(engine.calls).toEqual(['inspect web']);
    // What `gantry inspect` prints: docker's field names, four-space JSON in a list.
    expect(frame).toMatch(/^\s*\[$/m);
    expect(frame).toMatch(/^ {9}"Id": "[0-9a-f]{64}",$/m);
    expect(frame).toContain('"Status": "running"');
    // Searching finds the environment further down, and the view scrolls to it.
    await app.press('/', 'G', 'R', 'E', 'E', 'T', KEYS.enter);
    frame = await app.waitFor(/"GREETING=hello"/);
    expect(frame).toMatch(/"GREET" 1\/1/);
    await app.press('/', KEYS.ctrlU, 'M', 'e', 'm', 'o', 'r', 'y', KEYS.enter);
    frame = await app.waitFor(/"Memory": 67108864,/);
    expect(frame).toMatch(/"Memory" 1\/\d+/);
    await app.press('G');
    frame = await app.waitFor(/^\s*\]$/m);
    await app.press('g');
    await app.waitFor(/lines 1-/);
    // y puts the whole id on the clipboard.
    await app.press('y');
    await app.waitFor('copied the id of web to the clipboard');
    expect(app.copied).toEqual([web.Id]);
    await app.press(KEYS.escape);
    await app.waitFor(/NAME.*STATUS/);
    expect(app.frame()).not.toContain('Inspect web');
  });

  it('inspects the selected image too', async () => {
    const { app, engine } = setup();
    await app.waitFor('web');
    await app.press('2');
    await app.waitFor(/demo:latest/);
    await app.press('i');
    const frame = await app.waitFor(/Inspect demo:latest \(image\)/);
    await app.waitFor(/"RepoTags": \[/);
    expect(engine.calls).toEqual(['image inspect demo:latest']);
    expect(frame).not.toContain('reading…');
  });
});

describe('pull from the Images pane', () => {
  it('takes a reference, shows the CLI progress one line per layer, and selects the pulled image', async () => {
    const { app, engine } = setup();
    engine.pullLines = [
      'Pulling from registry.example/team/app:v1',
      '0123456789ab: Waiting',
      'abcdefabcdef: Waiting',
      '0123456789ab: Downloading',
      '0123456789ab: Pull complete',
    ];
    let release: () => void = () => undefined;
    engine.holdPull = new Promise((resolve) => (release = resolve));
    await app.waitFor('web');
    await app.press('2');
    await app.waitFor(/demo:latest/);
    await app.press('P');
    await app.waitFor('Pull an image');
    // Enter with nothing typed says what is accepted and pulls nothing.
    await app.press(KEYS.enter);
    await app.waitFor('type an image reference to pull');
    for (const key of 'registry.example/team/app:v1') await app.press(key);
    await app.press(KEYS.enter);
    const frame = await app.waitFor('0123456789ab: Pull complete');
    // One line per layer, updated in place, as the CLI's bars are.
    expect(frame).not.toContain('0123456789ab: Waiting');
    expect(frame).toContain('abcdefabcdef: Waiting');
    expect(frame).toContain('pulling…');
    release();
    await app.waitFor('pulled registry.example/team/app:v1');
    expect(engine.calls).toEqual(['pull registry.example/team/app:v1']);
    await app.press(KEYS.escape);
    await app.waitFor(/registry\.example\/team\/app:/);
    const pulled = engine.imageRecords.at(-1)!;
    expect(app.store.getState().images.selectedId).toBe(pulled.id);
  });

  it('says why a pull failed, and stays open to try again', async () => {
    const { app, engine } = setup();
    engine.pullError = new Error('no such image: nothere:latest');
    await app.waitFor('web');
    await app.press('2', 'P');
    for (const key of 'nothere') await app.press(key);
    await app.press(KEYS.enter);
    await app.waitFor('pull nothere: no such image: nothere:latest');
    expect(app.frame()).toContain('Pull an image');
    expect(engine.imageRecords).toHaveLength(1);
  });
});
