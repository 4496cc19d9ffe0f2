/**
 * Removing an image from the Images pane (`D`, issue 11 "Missing: image remove with the in-use
 * check"): it asks first, an image a container uses is refused by the store's own check and the
 * refusal names the containers (the image stays), and an unused one goes from the store and the
 * pane. The same flow on the real store is in images-e2e.int.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeEngine } from './support/fake-engine.js';
import { container, image, layer } from './support/fixtures.js';
import { renderTui } from './support/render.js';

vi.setConfig({ testTimeout: 60_000 });
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

describe('image remove from the Images pane', () => {
  it('refuses an image in use, naming its containers, and removes an unused one', async () => {
    const used = image('demo', [layer('a', 2_000_000)]);
    const spare = image('spare', [layer('b', 1_000_000)]);
    const engine = new FakeEngine(
      [container('web', { image: used.id }), container('db', { image: used.id, status: 'exited' })],
      [used, spare],
    );
    const app = renderTui(engine, { size: { columns: 120, rows: 30 } });
    cleanup.push(
      () => app.unmount(),
      () => engine.cleanup(),
    );
    await app.waitFor('web');
    await app.press('2');
    await app.waitFor(/spare:latest/);
    app.store.dispatch({ type: 'images/select', id: used.id });
    await app.press('D');
    await app.waitFor('Remove image demo:latest?');
    // n keeps it without asking the store.
    await app.press('n');
    expect(engine.calls).toEqual([]);
    await app.press('D', 'y');
    await app.waitFor(/remove image demo:latest: .*is used by containers web, db/);
    expect(engine.imageRecords.map((record) => record.id)).toContain(used.id);
    expect(app.frame()).toContain('demo:latest');

    app.store.dispatch({ type: 'images/select', id: spare.id });
    await app.press('D');
    await app.waitFor('Remove image spare:latest?');
    await app.press('y');
    await app.waitFor('image spare:latest removed');
    expect(engine.calls).toEqual([`rmi ${spare.id}`]);
    // The pane reads the store again: the image is gone from it.
    await app.waitFor(/image spare:latest removed/);
    for (let tries = 0; app.store.getState().images.records.length !== 1 && tries < 200; tries++)
      await app.press();
    expect(app.store.getState().images.records.map((record) => record.id)).toEqual([used.id]);
  });
});
