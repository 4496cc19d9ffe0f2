/**
 * Building an image from the Images pane (`b`): a form with the context directory, the tag and
 * the Containerfile, then the build's progress in `gantry build`'s words (STEP lines, the steps'
 * output, CACHED, COMMIT), cancellable, and how it ended: the image, or the step that failed and
 * why. Pure, like the rest of state/.
 */
import type { CommandId } from '../keymap/keymap.js';
import type { Action, Effect, Overlay, TuiState } from './types.js';

export type BuildOverlay = Extract<Overlay, { kind: 'build' }>;
export type BuildFieldName = BuildOverlay['fields'][number]['name'];

/** Lines of progress kept: a long RUN step's output scrolls, memory stays bounded. */
export const BUILD_LINES_KEPT = 500;

export function buildOverlay(state: TuiState): BuildOverlay | undefined {
  const overlay = state.ui.overlay;
  return overlay?.kind === 'build' ? overlay : undefined;
}

export function newBuild(): BuildOverlay {
  return {
    kind: 'build',
    fields: [
      {
        name: 'context',
        label: 'Context',
        value: '',
        placeholder: '. (the directory gantry was started in)',
      },
      { name: 'tag', label: 'Tag', value: '', placeholder: 'none (the image gets only an id), e.g. app:v1' },
      {
        name: 'file',
        label: 'Containerfile',
        value: '',
        placeholder: 'Containerfile, else Dockerfile, in the context',
      },
    ],
    focus: 0,
    lines: [],
    partial: '',
    running: false,
    cancelling: false,
    step: undefined,
    result: undefined,
  };
}

/** What the build is asked to do, from the form: empty fields take their defaults. */
export function buildRequest(overlay: BuildOverlay): { context: string; tag?: string; file?: string } {
  const value = (name: BuildFieldName) =>
    overlay.fields.find((field) => field.name === name)?.value.trim() ?? '';
  const tag = value('tag');
  const file = value('file');
  return { context: value('context') || '.', ...(tag ? { tag } : {}), ...(file ? { file } : {}) };
}

/** Appends CLI output (which may end mid-line) to the kept lines; `partial` holds the unfinished one. */
export function appendBuildText(
  lines: readonly string[],
  partial: string,
  text: string,
): { lines: string[]; partial: string } {
  const parts = (partial + text).replace(/\r\n/g, '\n').split('\n');
  const rest = parts.pop() ?? '';
  const next = [...lines, ...parts.map((line) => line.slice(line.lastIndexOf('\r') + 1))];
  return { lines: next.length > BUILD_LINES_KEPT ? next.slice(-BUILD_LINES_KEPT) : next, partial: rest };
}

export function reduceBuild(state: TuiState, action: Action): TuiState {
  const overlay = buildOverlay(state);
  if (!overlay) return state;
  const write = (next: BuildOverlay): TuiState => ({ ...state, ui: { ...state.ui, overlay: next } });
  switch (action.type) {
    case 'build/input':
      if (overlay.running) return state;
      return write({
        ...overlay,
        fields: overlay.fields.map((field, index) =>
          index === overlay.focus ? { ...field, value: action.text } : field,
        ),
        result: undefined,
      });
    case 'build/focus': {
      const count = overlay.fields.length;
      return write({ ...overlay, focus: (overlay.focus + action.delta + count) % count });
    }
    case 'build/started':
      return write({
        ...overlay,
        running: true,
        cancelling: false,
        lines: [],
        partial: '',
        step: undefined,
        result: undefined,
      });
    case 'build/output': {
      if (!overlay.running) return state;
      const appended = appendBuildText(overlay.lines, overlay.partial, action.text);
      return write({ ...overlay, ...appended, ...(action.step ? { step: action.step } : {}) });
    }
    case 'build/cancelling':
      return overlay.running ? write({ ...overlay, cancelling: true }) : state;
    case 'build/finished': {
      if (!overlay.running) return state;
      const lines = overlay.partial
        ? appendBuildText(overlay.lines, overlay.partial, '\n').lines
        : overlay.lines;
      return write({
        ...overlay,
        lines,
        partial: '',
        running: false,
        cancelling: false,
        result: { ok: action.ok, text: action.text, cancelled: action.cancelled ?? false },
      });
    }
    default:
      return state;
  }
}

/** What a command does while the build view is open. */
export function buildCommand(
  state: TuiState,
  command: CommandId,
): { actions: Action[]; effects: Effect[] } | undefined {
  const overlay = buildOverlay(state);
  if (!overlay) return undefined;
  switch (command) {
    case 'build.start':
      if (overlay.running) return { actions: [], effects: [] };
      return {
        actions: [{ type: 'build/started' }],
        effects: [{ type: 'build', ...buildRequest(overlay) }],
      };
    case 'build.next':
    case 'build.previous':
      return {
        actions: overlay.running ? [] : [{ type: 'build/focus', delta: command === 'build.next' ? 1 : -1 }],
        effects: [],
      };
    case 'build.close':
      // Esc while it runs cancels it (nothing of it is kept); once it has ended, closes the view.
      if (overlay.running)
        return overlay.cancelling
          ? { actions: [], effects: [] }
          : { actions: [{ type: 'build/cancelling' }], effects: [{ type: 'build-cancel' }] };
      return { actions: [{ type: 'ui/overlay', overlay: undefined }], effects: [] };
    default:
      return undefined;
  }
}
