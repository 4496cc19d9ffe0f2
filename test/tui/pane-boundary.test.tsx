/**
 * A pane that fails to draw for one container shows why in its place, and draws again when the
 * selection moves on: the error boundary follows the selection (it alone, not the whole App).
 */
import { describe, expect, it, vi } from 'vitest';
import type { ContainerRecord } from '../../source/runtime/containers/record.js';
import { FakeEngine } from './support/fake-engine.js';
import { container } from './support/fixtures.js';
import { renderTui } from './support/render.js';

vi.setConfig({ testTimeout: 30_000 });

describe('the pane error boundary', () => {
  it('shows the failure of the selected container and recovers when another is selected', async () => {
    // Listed second whether the table sorts by name or by creation, newest first.
    const broken = container('zz-broken');
    const good = container('good');
    // An error that is not text: the detail strip cannot show it (the table row does not try).
    const damaged = {
      ...broken,
      State: { ...broken.State, Error: Symbol('not text') },
    } as unknown as ContainerRecord;
    const engine = new FakeEngine([good, damaged]);
    const app = renderTui(engine, { size: { columns: 120, rows: 30 } });
    try {
      await app.waitFor(/good\s.*running/);
      expect(app.store.getState().containers.selectedId).toBe(good.Id);
      expect(app.frame()).toMatch(/zz-broken\s.*running/);
      await app.press('j');
      const failed = await app.waitFor('failed to draw');
      expect(failed).toMatch(/containers failed to draw: .*/);
      expect(app.store.getState().ui.status?.text ?? '').toMatch(/display error/);
      await app.press('k');
      const again = await app.waitFor(/good\s.*running/);
      expect(again).not.toMatch(/failed to draw/);
    } finally {
      app.unmount();
      engine.cleanup();
    }
  });
});
