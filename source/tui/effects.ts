/**
 * Carries out what keys ask of the runtime, off the render path, and reports back through the
 * store: progress in the status column, results in the status line. No error escapes: a refused
 * operation is a message, never the end of the TUI.
 */
import { HostUnreachableError } from '../runtime/remote/errors.js';
import type { TuiEngine } from './engine-adapter.js';
import { hostOf, LOCAL_HOST } from './hosts/keys.js';
import { DEFAULT_IMAGE_NAME, newContainerForm } from './state/form.js';
import { describeError, limitDefinition } from './state/limit-definitions.js';
import { imageLabel } from './state/selectors.js';
import type { Store } from './state/store.js';
import type { Action, Effect } from './state/types.js';

export interface EffectHost {
  /** Gives the terminal to a shell in the container and takes it back when the shell ends. */
  openShell(id: string, name: string): Promise<void>;
  /**
   * Puts text on the terminal's clipboard (OSC 52). False when the terminal is known not to take
   * it (TERM=dumb); whether any other terminal allows it is its own setting.
   */
  copy(text: string): boolean;
  quit(): void;
}

/** docker's stop timeout, the engine's too, when the container was created without one. */
const DEFAULT_STOP_TIMEOUT = 10;

const PROGRESS: Record<Extract<Effect, { type: 'container' }>['op'], [string, string]> = {
  start: ['starting', 'started'],
  stop: ['stopping', 'stopped'],
  restart: ['restarting', 'restarted'],
  pause: ['pausing', 'paused'],
  unpause: ['unpausing', 'unpaused'],
  kill: ['killing', 'killed'],
  remove: ['removing', 'removed'],
};

export function createEffectRunner(
  store: Store,
  engine: TuiEngine,
  host: EffectHost,
): (effect: Effect) => void {
  const status = (text: string, level: 'info' | 'error' = 'info'): Action => ({
    type: 'ui/status',
    text,
    level,
    time: Date.now(),
  });
  const refresh = async (id: string) => {
    try {
      store.dispatch({ type: 'containers/upserted', record: await engine.get(id) });
    } catch (error) {
      // Only a container that is gone leaves the table; one on a host that dropped stays, marked.
      if (!(error instanceof HostUnreachableError)) store.dispatch({ type: 'containers/removed', id });
    }
  };
  /** The images again: with several hosts, only the host an action changed (no other is waited on). */
  const reloadImages = async (host?: string) => {
    if (engine.hosts && host !== undefined)
      store.dispatch({ type: 'images/loaded', records: await engine.images.list(host), host });
    else store.dispatch({ type: 'images/loaded', records: await engine.images.list() });
  };

  /**
   * A stop (or the stop of a restart) waits up to the container's stop timeout for SIGTERM to
   * work before SIGKILL: the status column counts it down, so a container that ignores SIGTERM
   * is not a mystery.
   */
  const stopCountdown = (effect: Extract<Effect, { type: 'container' }>, doing: string) => {
    if (effect.op !== 'stop' && effect.op !== 'restart') return undefined;
    const record = store.getState().containers.records[effect.id];
    if (!record || (record.State.Status !== 'running' && record.State.Status !== 'paused')) return undefined;
    const seconds = record.Config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
    const deadline = Date.now() + seconds * 1000;
    const label = () => {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      return left > 0 ? `${doing} (${left}s)` : `${doing} (SIGKILL)`;
    };
    store.dispatch(
      { type: 'ui/pending', id: effect.id, label: label() },
      status(`${doing} ${effect.name}: SIGTERM sent, SIGKILL in ${seconds}s if it has not exited by then`),
    );
    let stopped = false;
    const timer = setInterval(() => {
      if (!stopped) store.dispatch({ type: 'ui/pending', id: effect.id, label: label() });
    }, 1000);
    timer.unref();
    return {
      stop: () => {
        stopped = true;
        clearInterval(timer);
      },
    };
  };

  /** The build under way, if any: one at a time, as the view shows one. */
  let building: AbortController | undefined;

  const run = async (effect: Effect): Promise<void> => {
    switch (effect.type) {
      case 'quit':
        host.quit();
        return;
      case 'container': {
        const [doing, done] = PROGRESS[effect.op];
        store.dispatch({ type: 'ui/pending', id: effect.id, label: doing });
        const countdown = stopCountdown(effect, doing);
        try {
          if (effect.op === 'remove') await engine.remove(effect.id, { force: true });
          else if (effect.op === 'kill') await engine.kill(effect.id, 'SIGKILL');
          else await engine[effect.op](effect.id);
          store.dispatch(
            { type: 'ui/pending', id: effect.id, label: undefined },
            status(`${effect.name} ${done}`),
          );
        } catch (error) {
          store.dispatch(
            { type: 'ui/pending', id: effect.id, label: undefined },
            status(`${effect.op} ${effect.name}: ${describeError(error)}`, 'error'),
          );
        } finally {
          countdown?.stop();
        }
        await refresh(effect.id);
        return;
      }
      case 'exec':
        try {
          await host.openShell(effect.id, effect.name);
        } catch (error) {
          store.dispatch(status(`shell in ${effect.name}: ${describeError(error)}`, 'error'));
        }
        return;
      case 'apply-limit': {
        const label = limitDefinition(effect.key).label;
        try {
          await engine.update(effect.id, effect.resources);
          store.dispatch(
            { type: 'limits/applied', containerId: effect.id, key: effect.key },
            status(`${effect.name}: ${label} set to ${effect.display}`),
          );
        } catch (error) {
          store.dispatch({
            type: 'limits/refused',
            containerId: effect.id,
            key: effect.key,
            error: describeError(error),
          });
        }
        await refresh(effect.id);
        return;
      }
      case 'create-container': {
        let created: { Id: string; Name: string } | undefined;
        try {
          created = await engine.create(effect.options, effect.host);
          await engine.start(created.Id);
          store.dispatch(
            { type: 'ui/overlay', overlay: undefined },
            { type: 'ui/pane', pane: 'containers' },
            status(`${created.Name} is running (from ${effect.imageLabel}); e opens a shell in it`),
          );
          await refresh(created.Id);
          store.dispatch({ type: 'containers/select', id: created.Id });
        } catch (error) {
          store.dispatch({ type: 'form/error', error: describeError(error) });
          // The form stays open to fix and submit again: a container that could not start would
          // only hold the name, so it goes.
          if (created) {
            await engine.remove(created.Id, { force: true }).catch(() => undefined);
            await refresh(created.Id);
          }
        }
        return;
      }
      case 'pull': {
        const { reference, host } = effect;
        try {
          const pulled = await engine.images.pull(
            reference,
            (line) => store.dispatch({ type: 'pull/progress', reference, line }),
            host,
          );
          await reloadImages(hostOf(pulled.id));
          const text = `pulled ${pulled.name}${host ? ` onto ${host}` : ''}`;
          store.dispatch(
            { type: 'pull/finished', reference, ok: true, text },
            { type: 'images/select', id: pulled.id },
            status(text),
          );
        } catch (error) {
          const text = `pull ${reference}${host ? ` onto ${host}` : ''}: ${describeError(error)}`;
          store.dispatch({ type: 'pull/finished', reference, ok: false, text }, status(text, 'error'));
        }
        return;
      }
      case 'build': {
        const controller = new AbortController();
        building = controller;
        const { context, tag, file } = effect;
        let step: string | undefined;
        try {
          const built = await engine.images.build(
            { context, ...(tag ? { tag } : {}), ...(file ? { file } : {}) },
            (text, startsStep) => {
              if (startsStep) step = startsStep;
              store.dispatch({ type: 'build/output', text, ...(startsStep ? { step: startsStep } : {}) });
            },
            controller.signal,
          );
          await reloadImages(hostOf(built.id));
          store.dispatch(
            { type: 'build/finished', ok: true, text: `built ${built.name}` },
            { type: 'images/select', id: built.id },
            status(`built ${built.name}`),
          );
        } catch (error) {
          const cancelled = controller.signal.aborted;
          // The builder names the failed step in its message; the STEP line says what it ran.
          const text = cancelled
            ? 'build cancelled: nothing of it was kept'
            : `build failed${step ? ` at ${step}` : ''}: ${describeError(error)}`;
          store.dispatch({ type: 'build/finished', ok: false, text, cancelled }, status(text, 'error'));
        } finally {
          if (building === controller) building = undefined;
        }
        return;
      }
      case 'build-cancel':
        building?.abort();
        return;
      case 'inspect':
        try {
          const data =
            effect.subject === 'container'
              ? await engine.inspect(effect.id)
              : await engine.images.inspect(effect.id);
          // As `gantry inspect` prints it: docker's four-space JSON in a list.
          store.dispatch({
            type: 'inspect/loaded',
            id: effect.id,
            lines: JSON.stringify([data], null, 4).split('\n'),
          });
        } catch (error) {
          store.dispatch({ type: 'inspect/failed', id: effect.id, error: describeError(error) });
        }
        return;
      case 'copy':
        store.dispatch(
          host.copy(effect.text)
            ? status(`copied ${effect.what} to the clipboard (OSC 52; some terminals need it allowed)`)
            : status(
                `this terminal takes no clipboard escape (OSC 52); ${effect.what} is ${effect.text}`,
                'error',
              ),
        );
        return;
      case 'remove-image': {
        const where = hostOf(effect.id) === LOCAL_HOST ? '' : ` on ${hostOf(effect.id)}`;
        try {
          // By ID, after a question that named every name: several names are no reason to
          // refuse. An image a container uses is still refused, by the store itself (it sees
          // containers made since this screen was drawn), naming them.
          await engine.images.remove(effect.id, { allNames: true });
          store.dispatch(status(`image ${effect.name} removed${where}`));
        } catch (error) {
          // A remote host's refusal already names it.
          store.dispatch(status(`remove image ${effect.name}: ${describeError(error)}`, 'error'));
        }
        await reloadImages(hostOf(effect.id)).catch(() => undefined);
        return;
      }
      case 'create-default-image': {
        const onboarding = store.getState().ui.overlay?.kind === 'onboarding';
        try {
          const image = await engine.images.fromHost(DEFAULT_IMAGE_NAME);
          await reloadImages(hostOf(image.id));
          store.dispatch(
            { type: 'images/select', id: image.id },
            { type: 'ui/onboarded' },
            status(`created ${DEFAULT_IMAGE_NAME} from this host`),
            // The newcomer's next step: run a container from it.
            ...(onboarding
              ? [
                  {
                    type: 'ui/overlay',
                    overlay: { kind: 'form', form: newContainerForm(image, image.id, imageLabel(image)) },
                  } as Action,
                ]
              : []),
          );
        } catch (error) {
          if (onboarding) store.dispatch({ type: 'onboarding/failed', error: describeError(error) });
          else store.dispatch(status(`create ${DEFAULT_IMAGE_NAME}: ${describeError(error)}`, 'error'));
        }
        return;
      }
    }
  };

  return (effect) => {
    run(effect).catch((error: unknown) => store.dispatch(status(describeError(error), 'error')));
  };
}
