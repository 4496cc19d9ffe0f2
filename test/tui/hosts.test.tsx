/**
 * Several hosts in the whole app (ink-testing-library) over fake engines: this machine's and a
 * remote host's, joined by the real MultiHostEngine. The HOST column, the host switcher, actions
 * reaching the right host with the container's own id, and a host that drops: marked
 * unreachable, its calls refused at once, this machine's still served, and back after its
 * back-off. The real ssh path is test/tui/remote-e2e.int.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogEntry } from '../../source/runtime/containers/logs.js';
import { UnsupportedError } from '../../source/runtime/errors.js';
import type { HostEngine } from '../../source/runtime/remote/host-engine.js';
import { MultiHostEngine } from '../../source/tui/hosts/multi-host-engine.js';
import { BACKOFF_MS, RemoteHost } from '../../source/tui/hosts/remote-host.js';
import { containerKey, hostOf, realId, splitKey } from '../../source/tui/hosts/keys.js';
import { FakeEngine } from './support/fake-engine.js';
import { droppableHost, hostEngine } from './support/fake-host.js';
import { container } from './support/fixtures.js';
import { renderTui, settle } from './support/render.js';

vi.setConfig({ testTimeout: 60_000 });
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

function setup() {
  const local = new FakeEngine([container('near'), container('idle', { status: 'exited' })]);
  const remote = new FakeEngine([container('far-web'), container('far-db')]);
  const host = droppableHost(remote);
  const engine = new MultiHostEngine(local, [host.spec]);
  engine.hosts.start();
  const app = renderTui(engine, { size: { columns: 140, rows: 30 } });
  cleanup.push(
    () => app.unmount(),
    () => engine.hosts.close(),
    () => local.cleanup(),
    () => remote.cleanup(),
  );
  return { local, remote, host, engine, app };
}

describe('container keys', () => {
  it('leave this machine bare and name a remote host after the id', () => {
    const id = 'a'.repeat(64);
    expect(containerKey('local', id)).toBe(id);
    expect(containerKey('ssh://root@h:22/x', id)).toBe(`${id}@ssh://root@h:22/x`);
    expect(splitKey(`${id}@ssh://root@h:22/x`)).toEqual({ host: 'ssh://root@h:22/x', id });
    expect(hostOf(id)).toBe('local');
    expect(realId(`${id}@web`)).toBe(id);
  });
});

describe('TUI with two hosts', () => {
  it('shows both hosts with a HOST column, and H shows one host, then the other, then all', async () => {
    const { app } = setup();
    await app.waitFor(/HOST\s+NAME/);
    await app.waitFor(/far\s+far-web\s/);
    await app.waitFor(/local\s+near\s/);
    expect(app.frame()).toContain('host: all 2');
    await app.press('H');
    await app.waitFor('host: local');
    expect(app.frame()).not.toContain('far-web');
    expect(app.frame()).toContain('near');
    await app.press('H');
    await app.waitFor('host: far');
    expect(app.frame()).not.toMatch(/\snear\s/);
    await app.press('H');
    await app.waitFor('host: all 2');
    expect(app.frame()).toMatch(/\snear\s/);
  });

  it('sends an action on a remote row to that host, with its own id, and the local one to this machine', async () => {
    const { app, local, remote } = setup();
    await app.waitFor(/far\s+far-web\s/);
    await app.press('/', ...'far-web', '\r');
    await app.press('p');
    await app.waitFor(/far-web\s.*‖ paused/);
    expect(remote.calls).toContain('pause far-web');
    expect(local.calls.filter((call) => call.startsWith('pause'))).toEqual([]);
    // y copies the id the remote host knows the container by, not the key of the row.
    await app.press('y');
    const farWeb = [...remote.records.values()].find((record) => record.Name === 'far-web')!;
    expect(app.copied.at(-1)).toBe(farWeb.Id);
    await app.press('\u001b', '/', ...'near', '\r', 'p');
    await app.waitFor(/near\s.*‖ paused/);
    expect(local.calls).toContain('pause near');
  });

  it('marks a host that drops, refuses its calls at once, serves this machine, and reconnects', async () => {
    const { app, local, remote, host } = setup();
    await app.waitFor(/far\s+far-web\s/);
    host.drop(true);
    // The first retry comes 1 s later; on a loaded machine it may have been refused (ssh's words
    // replace the first reason) before the frame is read.
    await app.waitFor(
      /✖ far unreachable \((the connection was lost|.*Connection refused)\), retry after [12]s/,
    );
    await app.waitFor(/✖ far\s+far-db/);
    // A remote action fails at once with the host's name; the row stays.
    await app.press('/', ...'far-web', '\r', 'p');
    await app.waitFor(/host far is unreachable: (the connection was lost|.*Connection refused)/);
    expect(remote.calls.filter((call) => call.startsWith('pause'))).toEqual([]);
    expect(app.frame()).toMatch(/far-web/);
    // This machine's containers are still managed.
    await app.press('\u001b', '/', ...'near', '\r', 'p');
    await app.waitFor(/near\s.*‖ paused/);
    expect(local.calls).toContain('pause near');
    // The first retry is refused (ssh's words are shown), the next one, later, gets through.
    const deadline = Date.now() + 30_000;
    while (
      !app.store
        .getState()
        .containers.hosts.some(
          (status) => status.error?.includes('Connection refused') && (status.retryInMs ?? 0) >= 2000,
        )
    ) {
      if (Date.now() > deadline)
        throw new Error(`no refused retry: ${JSON.stringify(app.store.getState().containers.hosts)}`);
      await settle(50);
    }
    expect(host.connects.length).toBeGreaterThanOrEqual(2);
    remote.records.set(container('far-new').Id, container('far-new'));
    host.allow();
    await app.press('\u001b');
    await app.waitFor('far-new', 30_000);
    expect(app.frame()).not.toContain('unreachable');
  });
});

const numbered = (count: number): LogEntry[] =>
  Array.from({ length: count }, (_, index) => ({
    time: '2026-01-01T12:34:56.789Z',
    stream: 'stdout' as const,
    text: `far line ${index}\n`,
  }));

describe('logs of a remote container', () => {
  it('load older lines with o from that host, with its own id', async () => {
    const { app, local, remote } = setup();
    remote.logLines = numbered(1500);
    await app.waitFor(/far\s+far-web\s/);
    await app.press('/', ...'far-web', '\r', '5');
    await app.waitFor('far line 1499');
    await app.waitFor('older lines exist (o loads them)');
    expect(app.store.getState().logs.lines[0]!.text).toBe('far line 500');
    await app.press('o');
    await app.waitFor(/held at \d+-\d+\/1500/);
    expect(app.store.getState().logs.lines[0]!.text).toBe('far line 0');
    expect(remote.calls.filter((call) => call.startsWith('older logs'))).toEqual(['older logs 1000']);
    expect(local.calls.filter((call) => call.startsWith('older logs'))).toEqual([]);
  });

  it('say on o why a remote gantry too old to page cannot, and still show its tail', async () => {
    const local = new FakeEngine([container('near')]);
    const remote = new FakeEngine([container('far-web')]);
    remote.logLines = numbered(1500);
    const reason =
      'loading older log lines is not supported by the remote gantry (version 0.0.9, protocol 1) on far; upgrade it';
    const engine = new MultiHostEngine(local, [
      {
        name: 'far',
        connect: async () => {
          const inner = hostEngine(remote);
          // What RemoteEngine does facing a protocol-1 service (test/runtime/remote/logs-paging.test.ts).
          const old: HostEngine = {
            ...inner,
            images: inner.images,
            volumes: inner.volumes,
            networks: inner.networks,
            logs: (reference, options = {}) => {
              options.onOlderUnsupported?.(reason);
              return inner.logs(reference, { ...(options.tail ? { tail: options.tail } : {}) });
            },
            olderLogs: () => Promise.reject(new UnsupportedError(reason)),
          };
          return { engine: old, ended: new Promise<void>(() => undefined) };
        },
      },
    ]);
    engine.hosts.start();
    const app = renderTui(engine, { size: { columns: 140, rows: 30 } });
    cleanup.push(
      () => app.unmount(),
      () => engine.hosts.close(),
      () => local.cleanup(),
      () => remote.cleanup(),
    );
    await app.waitFor(/far\s+far-web\s/);
    await app.press('/', ...'far-web', '\r', '5');
    await app.waitFor('far line 1499');
    await app.press('o');
    await app.waitFor('not supported by the remote gantry (version 0.0.9, protocol 1)');
    expect(remote.calls.filter((call) => call.startsWith('older logs'))).toEqual([]);
  });
});

describe('reconnecting', () => {
  it('waits 1 s, then twice as long each time, up to 30 s, and starts again from 1 s once back', async () => {
    vi.useFakeTimers();
    cleanup.push(() => vi.useRealTimers());
    let refuse = true;
    let drop: () => void = () => undefined;
    const remote = new RemoteHost({
      name: 'far',
      connect: async () => {
        if (refuse) throw new Error('Connection refused');
        return {
          engine: hostEngine(new FakeEngine()),
          ended: new Promise<void>((resolve) => (drop = resolve)),
        };
      },
    });
    cleanup.push(() => remote.close());
    const delays: number[] = [];
    remote.onStatus((status) => {
      if (status.state === 'unreachable') delays.push(status.retryAt! - Date.now());
    });
    remote.start();
    for (let attempt = 0; attempt < 7; attempt++) {
      await vi.advanceTimersByTimeAsync(delays.at(-1) ?? 0);
    }
    expect(delays.slice(0, 7)).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(() => remote.engine()).toThrow(/host far is unreachable: Connection refused; reconnecting in/);
    refuse = false;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(remote.status.state).toBe('up');
    expect(remote.engine()).toBeDefined();
    delays.length = 0;
    drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(delays).toEqual([BACKOFF_MS[0]]);
  });
});
