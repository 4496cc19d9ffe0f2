/**
 * Building an image from the Images pane (`b`, issue 11 "Missing: pull and build from the TUI")
 * over a fake engine: the form's three fields reach the build, the progress is shown in the
 * CLI's words with the step under way, Esc cancels a build under way (the engine sees the abort),
 * and a failure names the step that failed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeEngine } from './support/fake-engine.js';
import { container, image, layer } from './support/fixtures.js';
import { KEYS, renderTui } from './support/render.js';

vi.setConfig({ testTimeout: 60_000 });
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

function setup() {
  const engine = new FakeEngine([container('web')], [image('demo', [layer('a', 2_000_000)])]);
  const app = renderTui(engine, { size: { columns: 120, rows: 30 } });
  cleanup.push(
    () => app.unmount(),
    () => engine.cleanup(),
  );
  return { engine, app };
}

async function type(app: ReturnType<typeof renderTui>, text: string) {
  for (const key of text) await app.press(key);
}

async function openBuild(app: ReturnType<typeof renderTui>) {
  await app.waitFor('web');
  await app.press('2');
  await app.waitFor(/demo:latest/);
  await app.press('b');
  await app.waitFor('Build an image');
}

describe('build from the Images pane', () => {
  it('takes context, tag and Containerfile, shows the CLI progress, and selects the image built', async () => {
    const { app, engine } = setup();
    engine.buildTexts = [
      ['STEP 1/2: FROM demo\n', 'STEP 1/2: FROM demo'],
      ['STEP 2/2: RUN echo hello\n', 'STEP 2/2: RUN echo hello'],
      ['hel'],
      ['lo\n'],
    ];
    let release: () => void = () => undefined;
    engine.holdBuild = new Promise((resolve) => (release = resolve));
    await openBuild(app);
    // Empty fields say their defaults.
    expect(app.frame()).toContain('Containerfile, else Dockerfile, in the context');
    await type(app, '/src/app');
    await app.press(KEYS.tab);
    await type(app, 'app:v1');
    await app.press(KEYS.tab);
    await type(app, '/src/app/Containerfile.dev');
    await app.press(KEYS.enter);
    const frame = await app.waitFor('building… STEP 2/2: RUN echo hello (Esc cancels it)');
    expect(frame).toContain('STEP 1/2: FROM demo');
    // Output that arrived in pieces is one line.
    expect(frame).toMatch(/^\s*hello\s*$/m);
    expect(engine.calls).toEqual(['build /src/app tag=app:v1 file=/src/app/Containerfile.dev']);
    release();
    await app.waitFor('built app:v1');
    await app.press(KEYS.escape);
    await app.waitFor(/app:v1/);
    expect(app.frame()).not.toContain('Build an image');
    expect(app.store.getState().images.selectedId).toBe(engine.imageRecords.at(-1)!.id);
  });

  it('builds the current directory with the default file when the fields are left empty', async () => {
    const { app, engine } = setup();
    await openBuild(app);
    await app.press(KEYS.enter);
    await app.waitFor('built ');
    expect(engine.calls).toEqual(['build . tag= file=']);
  });

  it('cancels a build under way with Esc, and keeps the view to say so', async () => {
    const { app, engine } = setup();
    engine.buildTexts = [['STEP 1/1: RUN sleep 1000\n', 'STEP 1/1: RUN sleep 1000']];
    engine.holdBuild = new Promise(() => undefined);
    await openBuild(app);
    await app.press(KEYS.enter);
    await app.waitFor('Esc cancels it');
    await app.press(KEYS.escape);
    await app.waitFor('build cancelled: nothing of it was kept');
    expect(app.frame()).toContain('Build an image');
    expect(engine.imageRecords).toHaveLength(1);
    // Once it has ended, Esc closes.
    await app.press(KEYS.escape);
    await app.waitFor(/demo:latest/);
    expect(app.frame()).not.toContain('Build an image');
  });

  it('says which step failed and why, and stays open to build again', async () => {
    const { app, engine } = setup();
    engine.buildTexts = [
      ['STEP 1/2: FROM demo\n', 'STEP 1/2: FROM demo'],
      ['STEP 2/2: RUN false\n', 'STEP 2/2: RUN false'],
    ];
    engine.buildError = new Error(
      'step 2/2 (/src/Containerfile:2 RUN): the command "false" returned a non-zero code: 1',
    );
    await openBuild(app);
    await app.press(KEYS.enter);
    const frame = await app.waitFor('build failed at STEP 2/2: RUN false: step 2/2');
    expect(frame).toMatch(/returned a non-zero\s+code: 1/);
    expect(frame).toContain('Enter builds again');
    expect(engine.imageRecords).toHaveLength(1);
    engine.buildError = undefined;
    await app.press(KEYS.enter);
    await app.waitFor('built ');
    expect(engine.calls).toHaveLength(2);
  });
});
