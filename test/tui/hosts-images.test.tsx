/**
 * The Images and Layers panes with two hosts, in the whole app (ink-testing-library) over fake
 * engines joined by the real MultiHostEngine: every image row names its host, the same image on
 * two hosts is two rows, H shows one host's images; remove, pull, run and layers reach the
 * image's own host with its own id; build is refused for a remote host with the reason; a host
 * that drops leaves its rows marked and this machine's images managed. The real ssh path is
 * test/tui/remote-e2e.int.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FileNode, LayerTree } from '../../source/runtime/images/tree/types.js';
import type { ImageRecord } from '../../source/runtime/images/types.js';
import { MultiHostEngine } from '../../source/tui/hosts/multi-host-engine.js';
import { containerKey } from '../../source/tui/hosts/keys.js';
import { EngineLayerTreeSource } from '../../source/tui/layers/engine-layer-tree-source.js';
import { FakeEngine } from './support/fake-engine.js';
import { droppableHost } from './support/fake-host.js';
import { container, image, layer } from './support/fixtures.js';
import { renderTui } from './support/render.js';

vi.setConfig({ testTimeout: 60_000 });
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

const ESC = '\u001b';

/** A one-layer tree of `tools` as the far host's `image tree` gives it. */
function toolsTree(id: string): LayerTree {
  const changes: FileNode = {
    name: '',
    path: '/',
    type: 'directory',
    kind: 'unchanged',
    size: 4096,
    children: [
      {
        name: 'usr',
        path: '/usr',
        type: 'directory',
        kind: 'added',
        size: 4096,
        children: [{ name: 'far-tool', path: '/usr/far-tool', type: 'file', kind: 'added', size: 4096 }],
      },
    ],
  };
  const summary = { added: 2, modified: 0, removed: 0, addedBytes: 4096, modifiedBytes: 0, removedBytes: 0 };
  return {
    subject: { kind: 'image', id, names: ['tools:latest'] },
    layers: [
      {
        index: 0,
        digest: 'sha256:1111',
        chainId: 'sha256:2222',
        size: 4096,
        createdBy: 'COPY far-tool /usr/far-tool # buildkit',
        summary,
        changes,
      },
    ],
    totalBytes: 4096,
    userBytes: 0,
    userWastedPercent: 0,
    efficiency: 0.5,
    wastedBytes: 2048,
    inefficiencies: [],
  };
}

function setup(moreLocalImages: ImageRecord[] = []) {
  // The same image on both hosts: two rows, each stored (and used) on its own host.
  const demo = image('demo', [layer('base', 1_000_000)]);
  const tools = image('tools', [layer('base', 1_000_000), layer('tools', 500_000)]);
  const local = new FakeEngine([container('near', { image: demo.id })], [demo, ...moreLocalImages]);
  const remote = new FakeEngine([container('far-web', { image: demo.id })], [demo, tools]);
  remote.layerTrees.set(tools.id, toolsTree(tools.id));
  const host = droppableHost(remote);
  const engine = new MultiHostEngine(local, [host.spec]);
  engine.hosts.start();
  const app = renderTui(engine, {
    size: { columns: 150, rows: 30 },
    layerSource: new EngineLayerTreeSource(engine),
  });
  cleanup.push(
    () => app.unmount(),
    () => engine.hosts.close(),
    () => local.cleanup(),
    () => remote.cleanup(),
  );
  return { local, remote, host, app, demo, tools };
}

type App = ReturnType<typeof setup>['app'];

/** The Images pane with the first row the filter finds selected (an earlier filter cleared). */
async function selectImage(app: App, text: string): Promise<void> {
  await app.press(ESC, '2', ESC, '/', ...text, '\r');
}

/** Waits until the frame passes `test`. */
async function until(app: App, test: (frame: string) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!test(app.frame())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; the frame was:\n${app.frame()}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

describe('Images with two hosts', () => {
  it("names every row's host, keeps one row per host and image, counts each host's users, and H shows one host", async () => {
    const { app } = setup();
    await app.press('2');
    await app.waitFor(/HOST\s+NAME/);
    await app.waitFor(/local\s+demo:latest\s/);
    await app.waitFor(/far\s+tools:latest\s/);
    const frame = app.frame();
    expect(frame).toMatch(/far\s+demo:latest\s/);
    // Shared layers are a host's own: far's demo shares its base with far's tools, local's with none.
    expect(frame).toMatch(/local\s+demo:latest\s.*\s1\s+-/);
    expect(frame).toMatch(/far\s+demo:latest\s.*\s1\s+tools:latest/);
    await app.press('H');
    await app.waitFor('host: local');
    expect(app.frame()).not.toContain('tools:latest');
    expect(app.frame()).toMatch(/local\s+demo:latest/);
    await app.press('H');
    await app.waitFor('host: far');
    expect(app.frame()).not.toMatch(/local\s+demo/);
    expect(app.frame()).toMatch(/far\s+tools:latest/);
    await app.press('H');
    await app.waitFor(/local\s+demo:latest/);
  });

  it('removes a remote image on its host by its own id (every name), and says why an image in use is refused', async () => {
    const { app, local, remote, tools, demo } = setup();
    await app.press('2');
    await app.waitFor(/far\s+tools:latest/);
    await selectImage(app, 'tools');
    await app.press('D');
    await app.waitFor('Remove image tools:latest on far?');
    await app.press('y');
    await app.waitFor('image tools:latest removed on far');
    expect(remote.calls).toContain(`rmi ${tools.id}`);
    expect(remote.calls).toContain('rmi options {"allNames":true}');
    expect(local.calls.filter((call) => call.startsWith('rmi'))).toEqual([]);
    await until(
      app,
      () => !app.store.getState().images.records.some((record) => record.names.includes('tools:latest')),
      'the tools row gone',
    );
    // far's demo is used by far-web there.
    await selectImage(app, 'far');
    expect(app.store.getState().images.selectedId).toBe(containerKey('far', demo.id));
    await app.press('D', 'y');
    await app.waitFor(/remove image demo:latest: image \w+ is used by containers far-web/);
    expect(remote.imageRecords.map((record) => record.id)).toContain(demo.id);
    expect(local.imageRecords.map((record) => record.id)).toContain(demo.id);
  });

  it('pulls onto the host shown, and refuses a build (and c) there with the reason', async () => {
    const { app, local, remote } = setup();
    await app.press('2');
    await app.waitFor(/far\s+tools:latest/);
    await app.press('H', 'H');
    await app.waitFor('host: far');
    await app.press('b');
    await app.waitFor('far cannot build from here (the remote protocol has no build)');
    expect(local.calls.filter((call) => call.startsWith('build'))).toEqual([]);
    // c makes an image from this machine's binaries, here: not while only the far host is shown.
    await app.press('c');
    await app.waitFor('c creates gantry-host:latest from this machine');
    expect(local.calls.filter((call) => call.startsWith('from-host'))).toEqual([]);
    await app.press('P');
    await app.waitFor('Pull an image onto far');
    await app.press(...'busybox', '\r');
    await app.waitFor('pulled busybox:latest onto far');
    // The far host's progress in gantry pull's words.
    expect(app.frame()).toMatch(/Pull complete|Pulling from docker\.io\/library\/busybox/);
    expect(remote.calls).toContain('pull busybox');
    expect(local.calls.filter((call) => call.startsWith('pull'))).toEqual([]);
    await app.press(ESC);
    await app.waitFor(/far\s+busybox:latest/);
  });

  it("opens a remote image's layers from its host's tree, inspects it and runs a container from it there", async () => {
    const { app, local, remote, tools } = setup();
    await app.press('2');
    await app.waitFor(/far\s+tools:latest/);
    await selectImage(app, 'tools');
    await app.press('\r');
    await app.waitFor('tools:latest (image on far)');
    await app.waitFor('COPY far-tool /usr/far-tool');
    await app.waitFor(/efficiency 50/);
    await app.press('\r');
    await until(
      app,
      () => app.store.getState().layers.tree?.root?.children?.[0]?.children?.[0]?.name === 'far-tool',
      "the layer's file tree",
    );
    expect(remote.calls).toContain('layer tree tools:latest');
    // i: what the far host's image inspect says, by the id it knows.
    await selectImage(app, 'tools');
    await app.press('i');
    await app.waitFor(/Inspect tools:latest \(image\)/);
    await app.waitFor(`"Id": "${tools.id}"`);
    expect(remote.calls).toContain('image inspect tools:latest');
    expect(local.calls.filter((call) => call.startsWith('image inspect'))).toEqual([]);
    await app.press(ESC);
    await selectImage(app, 'tools');
    await app.press('n');
    await app.waitFor('Run a container from tools:latest on far');
    await app.press(...'made-far', '\r');
    await app.waitFor('made-far is running');
    expect(remote.calls.some((call) => call.startsWith('create') && call.includes('"tools:latest"'))).toBe(
      true,
    );
    expect(local.calls.filter((call) => call.startsWith('create'))).toEqual([]);
  });

  it("marks a dropped host's image rows, keeps this machine's images managed, and reads them again once it is back", async () => {
    const spare = image('spare', [layer('spare', 10_000)]);
    const { app, local, remote, host } = setup([spare]);
    await app.press('2');
    await app.waitFor(/far\s+tools:latest/);
    await app.waitFor(/local\s+spare:latest/);
    host.drop(true);
    await app.waitFor(/✖ far\s+tools:latest/);
    await selectImage(app, 'spare');
    await app.press('D', 'y');
    await app.waitFor('image spare:latest removed');
    expect(local.calls).toContain(`rmi ${spare.id}`);
    await app.press(ESC);
    await app.waitFor(/✖ far\s+tools:latest/);
    expect(app.frame()).not.toContain('spare:latest');
    remote.imageRecords = [...remote.imageRecords, image('later', [layer('later', 1000)])];
    host.allow();
    await app.waitFor(/far\s+later:latest/, 30_000);
    expect(app.frame()).not.toContain('unreachable');
  });

  it("runs a new container from a remote container's image on that host (n in Containers)", async () => {
    const { app, local, remote } = setup();
    await app.waitFor(/far\s+far-web\s/);
    await app.press('/', ...'far-web', '\r', 'n');
    await app.waitFor('Run a container from demo:latest on far');
    await app.press(...'twin', '\r');
    await app.waitFor('twin is running');
    expect(remote.calls.some((call) => call.startsWith('create') && call.includes('"demo:latest"'))).toBe(
      true,
    );
    expect(local.calls.filter((call) => call.startsWith('create'))).toEqual([]);
  });
});
