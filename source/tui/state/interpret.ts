/**
 * Keys to intents: looks the key up in the keymap for the active scopes and turns the command
 * into state actions and runtime effects. Pure: the caller dispatches the actions and hands the
 * effects to the runtime, so every key flow is testable on plain state.
 */
import type { Resources } from '../../runtime/cgroups/types.js';
import type { ContainerRecord } from '../../runtime/containers/record.js';
import { helpLines, lookup, TEXT_SCOPES, type CommandId, type Keymap } from '../keymap/keymap.js';
import { hostOf, LOCAL_HOST, realId } from '../hosts/keys.js';
import { paneHeight } from './layout.js';
import { isPrintable } from '../keymap/keys.js';
import { visibleTreeRows } from './layers.js';
import { describeError, LIMITS, limitDefinition } from './limit-definitions.js';
import { checkForm, DEFAULT_IMAGE_NAME, newContainerForm } from './form.js';

export { DEFAULT_IMAGE_NAME, formToCreateOptions, newContainerForm, splitCommand } from './form.js';
import { bulkCommand, confirmBulk } from './bulk.js';
import { inspectCommand, openInspect } from './inspect.js';
import { NEW_PULL, pullCommand } from './pull.js';
import { buildCommand, newBuild } from './build.js';
import { limitsContainer } from './limits.js';
import { messageLines } from './messages.js';
import { pageSize } from './reducer.js';
import {
  activeScopes,
  displayImage,
  imageLabel,
  imageNames,
  isActive,
  isTyping,
  selectedContainer,
  selectedImage,
} from './selectors.js';
import { PANES, type Action, type ContainerSortKey, type Effect, type TuiState } from './types.js';

export interface KeyResult {
  actions: Action[];
  effects: Effect[];
}

const NOTHING: KeyResult = { actions: [], effects: [] };

function act(...actions: Action[]): KeyResult {
  return { actions, effects: [] };
}

function status(text: string, now: number, level: 'info' | 'error' = 'error'): KeyResult {
  return act({ type: 'ui/status', text, level, time: now });
}

/**
 * The remote host an image action that makes an image (pull, build) acts on, with several hosts
 * shown: the one H shows, else the selected image's; undefined for this machine.
 */
function imageHost(state: TuiState): string | undefined {
  if (state.containers.hosts.length < 2) return undefined;
  const image = selectedImage(state);
  const host = state.containers.host ?? (image ? hostOf(image.id) : LOCAL_HOST);
  return host === LOCAL_HOST ? undefined : host;
}

/** " on HOST" for a remote host's image, nothing for this machine's. */
function onHost(key: string): string {
  const host = hostOf(key);
  return host === LOCAL_HOST ? '' : ` on ${host}`;
}

function containerEffect(record: ContainerRecord, op: Extract<Effect, { type: 'container' }>['op']): Effect {
  return { type: 'container', op, id: record.Id, name: record.Name };
}

/**
 * The text the user is typing into now, and the action that replaces it. `selected` text (a
 * limit's prefilled or stepped value) is replaced by the first key typed, as a selected field is.
 */
function textTarget(
  state: TuiState,
): { text: string; selected: boolean; set: (text: string) => Action } | undefined {
  const overlay = state.ui.overlay;
  if (overlay?.kind === 'pull')
    return overlay.running
      ? undefined
      : { text: overlay.reference, selected: false, set: (text) => ({ type: 'pull/input', text }) };
  if (overlay?.kind === 'build') {
    const field = overlay.fields[overlay.focus];
    return overlay.running || !field
      ? undefined
      : { text: field.value, selected: false, set: (text) => ({ type: 'build/input', text }) };
  }
  if (overlay?.kind === 'inspect')
    return overlay.search.editing
      ? {
          text: overlay.search.text,
          selected: false,
          set: (text) => ({ type: 'inspect/search', text, editing: true }),
        }
      : undefined;
  if (overlay?.kind === 'form') {
    const field = overlay.form.fields[overlay.form.focus];
    return field
      ? { text: field.value, selected: false, set: (text) => ({ type: 'form/input', text }) }
      : undefined;
  }
  if (!isTyping(state)) return undefined;
  if (state.ui.pane === 'limits' && state.limits.edit)
    return {
      text: state.limits.edit.text,
      selected: state.limits.edit.selected,
      set: (text) => ({ type: 'limits/input', text }),
    };
  const filter =
    state.ui.pane === 'containers'
      ? state.containers.filter
      : state.ui.pane === 'images'
        ? state.images.filter
        : state.ui.pane === 'logs'
          ? state.logs.search
          : state.layers.tree?.filter;
  return filter
    ? { text: filter.text, selected: false, set: (text) => ({ type: 'filter/input', text }) }
    : undefined;
}

function editText(state: TuiState, key: string, input: string): KeyResult | undefined {
  const target = textTarget(state);
  if (!target) return undefined;
  const text = target.selected ? '' : target.text;
  if (key === 'backspace') return act(target.set(text.slice(0, -1)));
  if (key === 'ctrl+u') return act(target.set(''));
  if (key === 'ctrl+w') return act(target.set(text.replace(/\S*\s*$/, '')));
  if (isPrintable(key, input)) return act(target.set(text + input));
  return undefined;
}

/** Scrolls the help or the message log, whichever is open; undefined for other commands. */
function scrollOverlay(state: TuiState, command: CommandId, keymap: Keymap): KeyResult | undefined {
  const overlay = state.ui.overlay;
  if (overlay?.kind !== 'help' && overlay?.kind !== 'messages') return undefined;
  const page = Math.max(1, pageSize(state));
  const delta = { 'cursor.up': -1, 'cursor.down': 1, 'cursor.pageUp': -page, 'cursor.pageDown': page }[
    command as string
  ];
  if (delta === undefined) return undefined;
  const visible = paneHeight(state.ui.size) - 2;
  if (overlay.kind === 'help') {
    const last = Math.max(0, helpLines(keymap).length - visible);
    return act({
      type: 'ui/overlay',
      overlay: { kind: 'help', scroll: Math.max(0, Math.min(last, overlay.scroll + delta)) },
    });
  }
  // The log is read from its newest line up: scrolling up moves further from it.
  const lines = messageLines(state.ui.messages, state.ui.size.columns - 2).length;
  const last = Math.max(0, lines - visible);
  return act({
    type: 'ui/overlay',
    overlay: { kind: 'messages', scroll: Math.max(0, Math.min(last, overlay.scroll - delta)) },
  });
}

function runCommand(state: TuiState, command: CommandId, now: number, keymap: Keymap): KeyResult {
  const scrolled =
    scrollOverlay(state, command, keymap) ??
    inspectCommand(state, command, now) ??
    pullCommand(state, command, now) ??
    buildCommand(state, command);
  if (scrolled) return scrolled;
  if (state.ui.pane === 'containers' && !state.ui.overlay) {
    const bulk = bulkCommand(state, command, now);
    if (bulk) return bulk;
  }
  const container = selectedContainer(state);
  const image = selectedImage(state);
  const needContainer = (): KeyResult => status('no container is selected', now);
  switch (command) {
    case 'app.quit':
      return { actions: [], effects: [{ type: 'quit' }] };
    case 'app.help':
      return act({
        type: 'ui/overlay',
        overlay: state.ui.overlay?.kind === 'help' ? undefined : { kind: 'help', scroll: 0 },
      });
    case 'help.close':
    case 'messages.close':
      return act({ type: 'ui/overlay', overlay: undefined });
    case 'app.messages':
      return act({
        type: 'ui/overlay',
        overlay: state.ui.overlay?.kind === 'messages' ? undefined : { kind: 'messages', scroll: 0 },
      });
    case 'pane.next':
      return act({ type: 'ui/paneStep', delta: 1 });
    case 'pane.previous':
      return act({ type: 'ui/paneStep', delta: -1 });
    case 'pane.containers':
    case 'pane.images':
    case 'pane.layers':
    case 'pane.limits':
    case 'pane.logs':
      return act({ type: 'ui/pane', pane: PANES.find((pane) => command === `pane.${pane}`)! });
    case 'cursor.up':
      return act({ type: 'list/move', delta: -1 });
    case 'cursor.down':
      return act({ type: 'list/move', delta: 1 });
    case 'cursor.pageUp':
      return act({ type: 'list/move', delta: -pageSize(state) });
    case 'cursor.pageDown':
      return act({ type: 'list/move', delta: pageSize(state) });
    case 'cursor.top':
      return act({ type: 'list/edge', edge: 'top' });
    case 'cursor.bottom':
      return act({ type: 'list/edge', edge: 'bottom' });
    case 'filter.start':
      return state.ui.pane === 'limits' || (state.ui.pane === 'layers' && state.layers.focus !== 'tree')
        ? NOTHING
        : act({ type: 'filter/start' });
    case 'filter.clear':
      // Esc in Containers clears the filter first, then the marks.
      if (
        state.ui.pane === 'containers' &&
        !state.containers.filter.text &&
        state.containers.marked.length > 0
      )
        return act({ type: 'containers/unmarkAll' }, { type: 'ui/clearStatus' });
      return act({ type: 'filter/clear' }, { type: 'ui/clearStatus' });

    case 'container.open':
      return container ? act({ type: 'ui/pane', pane: 'limits' }) : needContainer();
    case 'container.startStop':
      if (!container) return needContainer();
      return { actions: [], effects: [containerEffect(container, isActive(container) ? 'stop' : 'start')] };
    case 'container.pauseUnpause':
      if (!container) return needContainer();
      if (container.State.Status === 'paused')
        return { actions: [], effects: [containerEffect(container, 'unpause')] };
      if (container.State.Status === 'running')
        return { actions: [], effects: [containerEffect(container, 'pause')] };
      return status(`${container.Name} is not running; start it with s`, now);
    case 'container.restart':
      return container ? { actions: [], effects: [containerEffect(container, 'restart')] } : needContainer();
    case 'container.kill':
      if (!container) return needContainer();
      if (!isActive(container)) return status(`${container.Name} is not running`, now);
      return act({
        type: 'ui/overlay',
        overlay: {
          kind: 'confirm',
          action: 'kill',
          id: container.Id,
          name: container.Name,
          message: `Kill ${container.Name} (SIGKILL)?`,
        },
      });
    case 'container.remove':
      if (!container) return needContainer();
      return act({
        type: 'ui/overlay',
        overlay: {
          kind: 'confirm',
          action: 'remove',
          id: container.Id,
          name: container.Name,
          message:
            container.Damaged !== undefined
              ? `Remove ${container.Name}? Its record is damaged: whatever of it still runs is ended.`
              : isActive(container)
                ? `Remove ${container.Name}? It is ${container.State.Status} and will be killed first.`
                : `Remove ${container.Name}?`,
        },
      });
    case 'container.exec':
      if (!container) return needContainer();
      if (container.State.Status === 'paused')
        return status(`${container.Name} is paused; unpause it with p first`, now);
      if (container.State.Status !== 'running')
        return status(`${container.Name} is not running; start it with s`, now);
      return { actions: [], effects: [{ type: 'exec', id: container.Id, name: container.Name }] };
    case 'container.new': {
      if (!container) return image ? runCommand(state, 'image.new', now, keymap) : needContainer();
      const record = state.images.records.find((candidate) => candidate.id === container.Image);
      return act({
        type: 'ui/overlay',
        overlay: {
          kind: 'form',
          form: newContainerForm(
            record,
            container.Image,
            record ? imageLabel(record) : displayImage(container),
          ),
        },
      });
    }
    case 'container.sort':
      return act({ type: 'containers/sort' });
    case 'container.sortReverse':
      return act({ type: 'containers/sort', reverse: true });
    case 'container.toggleAll':
      return act({ type: 'containers/toggleAll' });
    case 'container.nextHost':
      if (state.containers.hosts.length < 2)
        return status(
          'only this machine is shown: start gantry with --host, or add a connection',
          now,
          'info',
        );
      return act({ type: 'containers/nextHost' });
    case 'container.inspect':
      if (!container) return needContainer();
      return {
        actions: [{ type: 'ui/overlay', overlay: openInspect('container', container.Id, container.Name) }],
        effects: [{ type: 'inspect', subject: 'container', id: container.Id }],
      };
    case 'container.copyId':
      if (!container) return needContainer();
      return {
        actions: [],
        effects: [{ type: 'copy', text: realId(container.Id), what: `the id of ${container.Name}` }],
      };
    case 'container.mark':
      return container ? act({ type: 'containers/mark' }) : needContainer();
    case 'container.markAll':
      return act({ type: 'containers/markAll' });
    case 'sort.name':
    case 'sort.id':
    case 'sort.image':
    case 'sort.status':
    case 'sort.uptime':
    case 'sort.cpu':
    case 'sort.memory':
    case 'sort.pids':
      return act({ type: 'containers/sort', key: command.slice('sort.'.length) as ContainerSortKey });

    case 'image.open':
      return image ? act({ type: 'ui/pane', pane: 'layers' }) : status('no image is selected', now);
    case 'image.new':
      if (!image) return status('no image is selected; create one with c', now);
      return act({
        type: 'ui/overlay',
        overlay: { kind: 'form', form: newContainerForm(image, image.id, imageLabel(image)) },
      });
    case 'image.remove':
      if (!image) return status('no image is selected', now);
      return act({
        type: 'ui/overlay',
        overlay: {
          kind: 'confirm',
          action: 'remove-image',
          id: image.id,
          name: imageNames(image),
          // Every name goes with the image (docker rmi -f by ID); the question says which.
          message:
            image.names.length > 1
              ? `Remove image ${imageNames(image)}${onHost(image.id)} (all ${image.names.length} names)?`
              : `Remove image ${imageLabel(image)}${onHost(image.id)}?`,
        },
      });
    case 'image.pull': {
      const host = imageHost(state);
      return act({ type: 'ui/overlay', overlay: host ? { ...NEW_PULL, host } : NEW_PULL });
    }
    case 'image.build': {
      const host = imageHost(state);
      // The context is a directory on this machine; the protocol carries no build to a host.
      if (host)
        return status(
          `${host} cannot build from here (the remote protocol has no build): select one of this machine's images or press H for local, and b builds here`,
          now,
        );
      return act({ type: 'ui/overlay', overlay: newBuild() });
    }
    case 'image.inspect':
      if (!image) return status('no image is selected', now);
      return {
        actions: [{ type: 'ui/overlay', overlay: openInspect('image', image.id, imageLabel(image)) }],
        effects: [{ type: 'inspect', subject: 'image', id: image.id }],
      };
    case 'image.createDefault':
      if (state.containers.host !== undefined && state.containers.host !== LOCAL_HOST)
        return status(
          `c creates ${DEFAULT_IMAGE_NAME} from this machine's binaries, on this machine: press H to show local`,
          now,
        );
      return {
        actions: [
          {
            type: 'ui/status',
            text: `creating ${DEFAULT_IMAGE_NAME} from this host…`,
            level: 'info',
            time: now,
          },
        ],
        effects: [{ type: 'create-default-image' }],
      };

    case 'layers.open':
      if (state.layers.focus === 'tree') return NOTHING;
      return state.layers.stack ? act({ type: 'layers/openTree' }) : NOTHING;
    case 'layers.aggregate':
      return act({ type: 'layers/aggregate' });
    case 'tree.toggle':
    case 'tree.expand':
    case 'tree.collapse': {
      const tree = state.layers.tree;
      const row = tree ? visibleTreeRows(tree)[tree.cursor] : undefined;
      if (!row || row.node.type !== 'directory') return NOTHING;
      const open = command === 'tree.expand' ? true : command === 'tree.collapse' ? false : undefined;
      return act(
        open === undefined
          ? { type: 'tree/toggle', path: row.node.path }
          : { type: 'tree/toggle', path: row.node.path, open },
      );
    }
    case 'tree.filter':
      return act({ type: 'filter/start' });
    case 'tree.back':
      return state.layers.tree?.filter.text
        ? act({ type: 'filter/clear' })
        : act({ type: 'layers/closeTree' });

    case 'limit.edit':
    case 'limit.increase':
    case 'limit.decrease': {
      // A stopped container's limits change too (docker update does it): they apply at its
      // next start, as the pane says.
      const shown = limitsContainer(state);
      if (!shown) return state.limits.removed ? status(removedText(state), now) : needContainer();
      const edit = state.limits.edit;
      const definition = edit ? limitDefinition(edit.key) : LIMITS[state.limits.cursor]!;
      if (!definition.editable)
        return status(`${definition.label}: ${describeError(safeParseError(definition, shown))}`, now);
      const resources = shown.HostConfig.Resources;
      const current = edit?.text ?? definition.input(resources);
      if (command === 'limit.edit')
        return act({
          type: 'limits/edit',
          key: definition.key,
          containerId: shown.Id,
          text: current,
          mode: 'typing',
        });
      if (!definition.step) return status(`${definition.label} has no steps; type a value (Enter)`, now);
      const stepped = definition.step(current, command === 'limit.increase' ? 1 : -1, resources);
      // A stepped value is still a whole value: the next key typed replaces it.
      return act(
        edit
          ? { type: 'limits/input', text: stepped, selected: true }
          : {
              type: 'limits/edit',
              key: definition.key,
              containerId: shown.Id,
              text: stepped,
              mode: 'stepping',
            },
      );
    }

    case 'logs.follow':
      return act({ type: 'logs/follow' });
    case 'logs.search':
      return act({ type: 'filter/start' });
    case 'logs.nextMatch':
      return act({ type: 'logs/match', direction: 1 });
    case 'logs.previousMatch':
      return act({ type: 'logs/match', direction: -1 });
    case 'logs.older':
      if (state.logs.olderUnsupported) return status(state.logs.olderUnsupported, now);
      if (!state.logs.older) return status('no older lines: the log begins here', now, 'info');
      return act({ type: 'logs/loadOlder' });
    case 'logs.wrap':
      return act({ type: 'logs/wrap' });
    case 'logs.timestamps':
      return act({ type: 'logs/timestamps' });
    case 'logs.left':
      return act({ type: 'logs/scrollX', delta: -1 });
    case 'logs.right':
      return act({ type: 'logs/scrollX', delta: 1 });

    case 'edit.apply': {
      const edit = state.limits.edit;
      if (state.ui.pane === 'limits' && edit) {
        // The edit is for the container it was opened on, and only that one.
        const target = state.containers.records[edit.containerId];
        if (!target || state.limits.removed) return act({ type: 'limits/cancel' });
        const definition = limitDefinition(edit.key);
        let resources: Resources;
        try {
          resources = definition.parse(edit.text, target.HostConfig.Resources);
        } catch (error) {
          return act({
            type: 'limits/refused',
            containerId: edit.containerId,
            key: edit.key,
            error: describeError(error),
          });
        }
        const display = definition.display({ ...target.HostConfig.Resources, ...resources });
        return {
          actions: [{ type: 'limits/applying' }],
          effects: [
            {
              type: 'apply-limit',
              id: target.Id,
              name: target.Name,
              key: definition.key,
              resources,
              display,
            },
          ],
        };
      }
      return act({ type: 'filter/commit' });
    }
    case 'edit.cancel':
      return act(state.ui.pane === 'limits' ? { type: 'limits/cancel' } : { type: 'filter/clear' });

    case 'confirm.yes': {
      const overlay = state.ui.overlay;
      if (overlay?.kind !== 'confirm') return NOTHING;
      if (overlay.targets && overlay.action !== 'remove-image')
        return confirmBulk(overlay.action, overlay.targets);
      const effect: Effect =
        overlay.action === 'remove-image'
          ? { type: 'remove-image', id: overlay.id, name: overlay.name }
          : {
              type: 'container',
              op: overlay.action === 'kill' ? 'kill' : 'remove',
              id: overlay.id,
              name: overlay.name,
            };
      return { actions: [{ type: 'ui/overlay', overlay: undefined }], effects: [effect] };
    }
    case 'confirm.no':
      return act({ type: 'ui/overlay', overlay: undefined });

    case 'form.next':
      return act({ type: 'form/focus', delta: 1 });
    case 'form.previous':
      return act({ type: 'form/focus', delta: -1 });
    case 'form.submit': {
      const overlay = state.ui.overlay;
      if (overlay?.kind !== 'form' || overlay.form.submitting) return NOTHING;
      // Every field is checked before anything is asked of the runtime, and every problem is
      // shown at once, each beside its field.
      const checked = checkForm(overlay.form);
      if (!checked.options) return act({ type: 'form/invalid', errors: checked.errors });
      return {
        actions: [{ type: 'form/submitting' }],
        effects: [
          {
            type: 'create-container',
            options: checked.options,
            imageLabel: overlay.form.imageLabel,
            ...(overlay.form.host ? { host: overlay.form.host } : {}),
          },
        ],
      };
    }
    case 'form.cancel':
      return act({ type: 'ui/overlay', overlay: undefined });

    case 'onboarding.create':
      if (state.ui.overlay?.kind === 'onboarding' && state.ui.overlay.creating) return NOTHING;
      return { actions: [{ type: 'onboarding/creating' }], effects: [{ type: 'create-default-image' }] };
    case 'onboarding.dismiss':
      return act({ type: 'ui/overlay', overlay: undefined }, { type: 'ui/onboarded' });
    // Handled by inspectCommand while the inspect view is open; nothing elsewhere.
    case 'inspect.close':
    case 'inspect.search':
    case 'inspect.nextMatch':
    case 'inspect.previousMatch':
    case 'inspect.copyId':
    case 'pull.start':
    case 'pull.close':
    case 'build.start':
    case 'build.next':
    case 'build.previous':
    case 'build.close':
      return NOTHING;
  }
}

function removedText(state: TuiState): string {
  const removed = state.limits.removed!;
  return `${removed.name} was removed by another process; choose another container in Containers (1)`;
}

function safeParseError(definition: (typeof LIMITS)[number], container: ContainerRecord): unknown {
  try {
    definition.parse('', container.HostConfig.Resources);
    return new Error('cannot be changed here');
  } catch (error) {
    return error;
  }
}

/** What pressing `key` (Ink's `input` alongside) does in `state`. */
export function interpretKey(
  state: TuiState,
  keymap: Keymap,
  key: string,
  input: string,
  now = Date.now(),
): KeyResult {
  const scopes = activeScopes(state);
  const command = lookup(keymap, scopes, key);
  if (command) return runCommand(state, command, now, keymap);
  if (scopes.some((scope) => TEXT_SCOPES.has(scope))) {
    const edited = editText(state, key, input);
    if (edited) return edited;
  }
  // Ctrl+C always quits, whatever the keymap or dialog says, as a terminal user expects.
  if (key === 'ctrl+c') return { actions: [], effects: [{ type: 'quit' }] };
  return NOTHING;
}
