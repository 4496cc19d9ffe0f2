/**
 * Keeps the container and image lists current: one full read at start, then a refresh of just
 * the container that changed, on the runtime's events and on writes in the state directory by
 * any process. Nothing re-lists on a timer. With several hosts each host is read on its own (one
 * that is slow or down holds up no other), again when it comes (back) up; a remote host's images,
 * which no event announces, also when the Images pane is entered.
 */
import { useEffect } from 'react';
import { damagedStandIn } from '../../runtime/containers/record.js';
import { CorruptStateError, NotFoundError } from '../../runtime/errors.js';
import { useTui } from '../context.js';
import { LOCAL_HOST } from '../hosts/keys.js';
import { StateWatcher } from '../state-watcher.js';
import { describeError } from '../state/limit-definitions.js';

export function useEngineSync(): void {
  const { store, engine } = useTui();
  useEffect(() => {
    let alive = true;
    const report = (error: unknown) => {
      if (alive)
        store.dispatch({ type: 'ui/status', text: describeError(error), level: 'error', time: Date.now() });
    };
    const { hosts } = engine;
    /** One host's containers (all of them with one host): a slow or down host holds up no other. */
    const loadHost = async (host?: string) => {
      try {
        const { records, damaged = [] } =
          hosts && host !== undefined
            ? await hosts.list(host, { all: true })
            : await engine.list({ all: true });
        // A container whose record cannot be read is shown, marked, so it can be removed.
        const standIns = damaged.map((bad) => damagedStandIn(bad.id, bad.name, bad.error.message));
        if (alive)
          store.dispatch({
            type: 'containers/loaded',
            records: [...records, ...standIns],
            ...(hosts && host !== undefined ? { host } : {}),
          });
      } catch (error) {
        report(error);
      }
    };
    const loadContainers = async () => {
      if (!hosts) return loadHost();
      await Promise.all(
        hosts.names.map((name) =>
          hosts.statuses().find((status) => status.name === name)?.state === 'up'
            ? loadHost(name)
            : undefined,
        ),
      );
    };
    // Several hosts: their states go to the header and HOST column; one that comes (back) up is
    // listed again, as what changed there while it was away reached no one.
    const offStatus = hosts?.onStatus((status) => {
      if (!alive) return;
      store.dispatch({ type: 'containers/hosts', hosts: hosts.statuses() });
      if (status.state === 'up') {
        void loadHost(status.name);
        void loadImages(status.name);
      }
    });
    if (hosts) store.dispatch({ type: 'containers/hosts', hosts: hosts.statuses() });
    // What killed gantry processes left is finished at once; while operations are recorded
    // (under way elsewhere, or just killed), look again each second.
    let recoveryTimer: NodeJS.Timeout | undefined;
    const recover = async (): Promise<void> => {
      clearTimeout(recoveryTimer);
      try {
        const underWay = await engine.recoverInterrupted();
        if (underWay && alive) recoveryTimer = setTimeout(() => void recover(), 1000);
      } catch (error) {
        report(error);
      }
    };
    /** One host's images (all of them with one host). */
    const loadImages = async (host?: string) => {
      try {
        if (hosts && host !== undefined) {
          const records = await engine.images.list(host);
          if (alive) store.dispatch({ type: 'images/loaded', records, host });
        } else {
          const records = await engine.images.list();
          if (alive) store.dispatch({ type: 'images/loaded', records });
        }
      } catch (error) {
        report(error);
      }
    };
    const upHosts = () =>
      hosts
        ? hosts
            .statuses()
            .filter((status) => status.state === 'up')
            .map((status) => status.name)
        : [];
    const loadAllImages = async () => {
      if (!hosts) return loadImages();
      await Promise.all(upHosts().map((name) => loadImages(name)));
    };
    // Entering Images reads the remote hosts' images again: a pull or rmi there by another
    // process sends no event this way.
    let pane = store.getState().ui.pane;
    const offPane = hosts
      ? store.subscribe(() => {
          const now = store.getState().ui.pane;
          if (now === pane) return;
          pane = now;
          if (now === 'images') for (const name of upHosts()) if (name !== LOCAL_HOST) void loadImages(name);
        })
      : undefined;
    // One refresh per container at a time; a change during it asks for one more.
    const inFlight = new Map<string, boolean>();
    const refresh = async (id: string): Promise<void> => {
      if (inFlight.has(id)) {
        inFlight.set(id, true);
        return;
      }
      inFlight.set(id, false);
      try {
        const record = await engine.get(id);
        if (alive) store.dispatch({ type: 'containers/upserted', record });
      } catch (error) {
        if (error instanceof NotFoundError) {
          if (alive) store.dispatch({ type: 'containers/removed', id });
        } else if (error instanceof CorruptStateError) {
          const name = store.getState().containers.records[id]?.Name;
          if (alive)
            store.dispatch({ type: 'containers/upserted', record: damagedStandIn(id, name, error.message) });
        } else {
          report(error);
        }
      } finally {
        const again = inFlight.get(id);
        inFlight.delete(id);
        if (again && alive) void refresh(id);
      }
    };
    const watcher = new StateWatcher(engine.root, {
      container: (id) => void refresh(id),
      images: () => void loadImages(hosts ? LOCAL_HOST : undefined),
      journal: () => void recover(),
      error: report,
    });
    try {
      watcher.start();
    } catch (error) {
      report(error);
    }
    void recover().then(loadContainers);
    void loadAllImages();
    const controller = new AbortController();
    const events = engine.events(controller.signal);
    if (events) {
      void (async () => {
        try {
          for await (const event of events) {
            if (!alive) break;
            if (event.type === 'container') void refresh(event.id);
          }
        } catch (error) {
          if (alive && !controller.signal.aborted) report(error);
        }
      })();
    }
    return () => {
      alive = false;
      offStatus?.();
      offPane?.();
      clearTimeout(recoveryTimer);
      controller.abort();
      watcher.close();
    };
  }, [store, engine]);
}
