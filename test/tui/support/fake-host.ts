/**
 * A remote host for the TUI's unit tests: a FakeEngine behind the HostEngine interface (what the
 * protocol's client gives the TUI), and a connection the test drops and lets back. The real ssh
 * path is test/tui/remote-e2e.int.test.ts.
 */
import type { EngineEvent } from '../../../source/runtime/containers/events.js';
import { NotFoundError } from '../../../source/runtime/errors.js';
import type { HostEngine } from '../../../source/runtime/remote/host-engine.js';
import type { HostConnection } from '../../../source/tui/hosts/remote-host.js';
import type { FakeEngine } from './fake-engine.js';
import { image, layer } from './fixtures.js';

/** The remote side of a fake host: a FakeEngine behind the HostEngine interface. */
export function hostEngine(fake: FakeEngine): HostEngine {
  const record = (reference: string) => fake.get(reference);
  const imageRecord = (reference: string) => {
    const found = fake.imageRecords.find((candidate) => candidate.id === reference);
    if (!found) throw new NotFoundError(`no such image: ${reference}`);
    return found;
  };
  return {
    host: 'far',
    list: async () => ({ records: [...fake.records.values()], damaged: [] }),
    get: record,
    inspect: async (reference, type) =>
      type === 'image' ? fake.images.inspect(imageRecord(reference).id) : fake.inspect(reference),
    create: (options) => fake.create(options),
    start: async (reference) => (await fake.start(reference), record(reference)),
    stop: async (reference) => (await fake.stop(reference), record(reference)),
    restart: async (reference) => (await fake.restart(reference), record(reference)),
    kill: async (reference, signal) => (await fake.kill(reference, String(signal)), record(reference)),
    remove: (reference) => fake.remove(reference),
    pause: async (reference) => (await fake.pause(reference), record(reference)),
    unpause: async (reference) => (await fake.unpause(reference), record(reference)),
    update: async (reference, resources) => (await fake.update(reference, resources), record(reference)),
    wait: async () => 0,
    stats: async (reference) => fake.stats(await record(reference)),
    // No events: the stream stays open until the reader lets go, as a quiet host's does.
    events: (options = {}) => ({
      [Symbol.asyncIterator]: () => ({
        next: () =>
          new Promise<IteratorResult<EngineEvent>>((resolve) =>
            options.signal?.addEventListener('abort', () => resolve({ done: true, value: undefined }), {
              once: true,
            }),
          ),
      }),
    }),
    logs: (reference, options = {}) => fake.logs(reference, options),
    olderLogs: (reference, cursor, count, signal) => fake.olderLogs(reference, cursor, count, signal),
    exec: () => Promise.reject(new Error('not in this test')),
    startAttached: () => Promise.reject(new Error('not in this test')),
    attach: () => Promise.reject(new Error('not in this test')),
    copyFrom: () => Promise.reject(new Error('not in this test')),
    copyTo: () => Promise.reject(new Error('not in this test')),
    images: {
      list: () => fake.images.list(),
      tree: async (reference, options = {}) =>
        options.container
          ? fake.containerLayerTree(reference)
          : fake.images.layerTree(imageRecord(reference)),
      remove: async (reference, options = {}) => {
        fake.calls.push(`rmi options ${JSON.stringify(options)}`);
        const names = imageRecord(reference).names;
        await fake.images.remove(reference);
        return { untagged: names, deleted: reference };
      },
      // The progress a registry pull reports, as the service relays it.
      pull: async (request, onEvent) => {
        fake.calls.push(`pull ${request.reference}`);
        const pulled = image(request.reference.replace(/:latest$/, ''), [
          layer(request.reference, 3_000_000),
        ]);
        const blob = pulled.layers[0]!.blobDigest;
        onEvent?.({
          type: 'resolved',
          reference: `docker.io/library/${request.reference}`,
          digest: 'sha256:ab',
          mediaType: 'application/vnd.oci.image.index.v1+json',
        });
        onEvent?.({
          type: 'blob',
          digest: blob,
          kind: 'layer',
          phase: 'waiting',
          current: 0,
          total: 3_000_000,
        });
        onEvent?.({
          type: 'blob',
          digest: blob,
          kind: 'layer',
          phase: 'done',
          current: 3_000_000,
          total: 3_000_000,
        });
        fake.imageRecords = [...fake.imageRecords, pulled];
        return {
          Id: pulled.id,
          Name: pulled.names[0]!,
          Digest: 'sha256:ab',
          ManifestDigest: 'sha256:ab',
          Layers: [],
          upToDate: false,
        };
      },
    },
    volumes: { list: async () => [] },
    networks: { list: async () => [] },
    close: () => undefined,
  };
}

/** A remote host whose connection the test drops and lets back. */
export function droppableHost(fake: FakeEngine) {
  let drop: () => void = () => undefined;
  let refuse = false;
  const connects: number[] = [];
  return {
    spec: {
      name: 'far',
      connect: async (): Promise<HostConnection> => {
        connects.push(Date.now());
        if (refuse) throw new Error('ssh: connect to host 127.0.0.1 port 22: Connection refused');
        const ended = new Promise<void>((resolve) => (drop = resolve));
        return { engine: hostEngine(fake), ended };
      },
    },
    connects,
    drop(refuseAfter: boolean) {
      refuse = refuseAfter;
      drop();
    },
    allow() {
      refuse = false;
    },
  };
}
