import { describe, expect, it } from 'vitest';
import { DEFAULT_KEYMAP } from '../../source/tui/keymap/keymap.js';
import {
  interpretKey,
  splitCommand,
  formToCreateOptions,
  newContainerForm,
} from '../../source/tui/state/interpret.js';
import { initialState, reducer } from '../../source/tui/state/reducer.js';
import {
  selectedContainer,
  visibleContainers,
  imageSharing,
  activeScopes,
} from '../../source/tui/state/selectors.js';
import { allCpus, limitDefinition, LIMITS, loosening } from '../../source/tui/state/limit-definitions.js';
import { limitsContainer } from '../../source/tui/state/limits.js';
import { deriveSeries } from '../../source/tui/state/stats.js';
import type { Action, TuiState } from '../../source/tui/state/types.js';
import { container, image, layer, sample } from './support/fixtures.js';

function apply(state: TuiState, ...actions: Action[]): TuiState {
  return actions.reduce(reducer, state);
}

/** Presses keys through the keymap, applying the actions; returns the state and the effects asked for. */
function press(state: TuiState, ...keys: string[]) {
  const effects = [];
  let current = state;
  for (const key of keys) {
    const input = key.length === 1 ? key : key === 'space' ? ' ' : '';
    const result = interpretKey(current, DEFAULT_KEYMAP, key, input, 1000);
    current = apply(current, ...result.actions);
    effects.push(...result.effects);
  }
  return { state: current, effects };
}

const web = container('web', { resources: { memory: 256 * 1024 * 1024 } });
const db = container('db');
const old = container('old', { status: 'exited', exitCode: 137 });
const base = apply(
  initialState({ columns: 80, rows: 24 }, 0),
  { type: 'containers/loaded', records: [web, db, old] },
  { type: 'images/loaded', records: [image('demo', [layer('a', 100)])] },
);

describe('containers pane', () => {
  it('lists by name and selects the first row', () => {
    expect(visibleContainers(base).map((record) => record.Name)).toEqual(['db', 'old', 'web']);
    expect(selectedContainer(base)?.Name).toBe('db');
  });

  it('moves the selection with j/k and keeps it on the same container when the list changes', () => {
    let { state } = press(base, 'j');
    expect(selectedContainer(state)?.Name).toBe('old');
    state = apply(state, { type: 'containers/upserted', record: container('aaa') });
    expect(selectedContainer(state)?.Name).toBe('old');
    state = press(state, 'k', 'k', 'k').state;
    expect(selectedContainer(state)?.Name).toBe('aaa');
  });

  it('keeps the selection near when the selected container goes away', () => {
    const { state } = press(base, 'j');
    const after = apply(state, { type: 'containers/removed', id: old.Id });
    expect(selectedContainer(after)?.Name).toBe('web');
  });

  it('filters as you type; Enter keeps the filter and selects the first match; Esc clears', () => {
    let { state } = press(base, '/', 'w', 'e');
    expect(state.containers.filter).toEqual({ text: 'we', editing: true });
    expect(activeScopes(state)).toEqual(['edit']);
    expect(visibleContainers(state).map((record) => record.Name)).toEqual(['web']);
    state = press(state, 'enter').state;
    expect(state.containers.filter).toEqual({ text: 'we', editing: false });
    expect(selectedContainer(state)?.Name).toBe('web');
    // Keys mean commands again once the filter is kept.
    expect(press(state, 's').effects).toEqual([{ type: 'container', op: 'stop', id: web.Id, name: 'web' }]);
    state = press(state, 'escape').state;
    expect(visibleContainers(state)).toHaveLength(3);
  });

  it('edits the filter text with backspace', () => {
    const { state } = press(base, '/', 'x', 'y', 'backspace');
    expect(state.containers.filter.text).toBe('x');
  });

  it('sorts by the next column with o and reverses with O', () => {
    let { state } = press(base, 'o', 'o');
    expect(state.containers.sort).toEqual({ key: 'status', descending: false });
    expect(visibleContainers(state).map((record) => record.Name)).toEqual(['db', 'web', 'old']);
    state = press(state, 'O').state;
    expect(visibleContainers(state).map((record) => record.Name)).toEqual(['old', 'web', 'db']);
  });

  it('sorts by a column with its Shift+letter (k9s), by ID too; the same key again reverses', () => {
    let { state } = press(base, 'I');
    expect(state.containers.sort).toEqual({ key: 'id', descending: false });
    const byId = [web, db, old].sort((a, b) => (a.Id < b.Id ? -1 : 1)).map((record) => record.Name);
    expect(visibleContainers(state).map((record) => record.Name)).toEqual(byId);
    state = press(state, 'I').state;
    expect(visibleContainers(state).map((record) => record.Name)).toEqual([...byId].reverse());
    expect(press(base, 'C').state.containers.sort).toEqual({ key: 'cpu', descending: false });
    expect(press(base, 'M').state.containers.sort.key).toBe('memory');
    expect(press(base, 'P').state.containers.sort.key).toBe('pids');
    expect(press(base, 'S').state.containers.sort.key).toBe('status');
    expect(press(base, 'E').state.containers.sort.key).toBe('image');
    expect(press(base, 'U').state.containers.sort.key).toBe('uptime');
    expect(press(base, 'o', 'N').state.containers.sort).toEqual({ key: 'name', descending: false });
  });

  it('hides stopped containers with a', () => {
    const { state } = press(base, 'a');
    expect(visibleContainers(state).map((record) => record.Name)).toEqual(['db', 'web']);
  });
});

describe('actions on the selection', () => {
  it('s stops a running container and starts a stopped one', () => {
    expect(press(base, 's').effects).toEqual([{ type: 'container', op: 'stop', id: db.Id, name: 'db' }]);
    expect(press(base, 'j', 's').effects).toEqual([
      { type: 'container', op: 'start', id: old.Id, name: 'old' },
    ]);
  });

  it('p pauses and unpauses', () => {
    expect(press(base, 'p').effects[0]).toMatchObject({ op: 'pause' });
    const paused = apply(base, {
      type: 'containers/upserted',
      record: { ...db, State: { ...db.State, Status: 'paused' } },
    });
    expect(press(paused, 'p').effects[0]).toMatchObject({ op: 'unpause' });
  });

  it('K asks first; y kills, n does not', () => {
    const asked = press(base, 'K');
    expect(asked.effects).toEqual([]);
    expect(asked.state.ui.overlay).toMatchObject({ kind: 'confirm', action: 'kill', name: 'db' });
    expect(activeScopes(asked.state)).toEqual(['confirm']);
    expect(press(asked.state, 'y').effects).toEqual([
      { type: 'container', op: 'kill', id: db.Id, name: 'db' },
    ]);
    const declined = press(asked.state, 'n');
    expect(declined.effects).toEqual([]);
    expect(declined.state.ui.overlay).toBeUndefined();
  });

  it('D asks first, then removes', () => {
    const { state, effects } = press(base, 'D', 'y');
    expect(effects).toEqual([{ type: 'container', op: 'remove', id: db.Id, name: 'db' }]);
    expect(state.ui.overlay).toBeUndefined();
  });

  it('e opens a shell only in a running container', () => {
    expect(press(base, 'e').effects).toEqual([{ type: 'exec', id: db.Id, name: 'db' }]);
    const stopped = press(base, 'j', 'e');
    expect(stopped.effects).toEqual([]);
    expect(stopped.state.ui.status?.text).toMatch(/not running/);
  });

  it('q quits, and ctrl+c quits even inside a dialog', () => {
    expect(press(base, 'q').effects).toEqual([{ type: 'quit' }]);
    expect(press(press(base, 'K').state, 'ctrl+c').effects).toEqual([{ type: 'quit' }]);
  });
});

describe('panes', () => {
  it('Tab, Shift-Tab and 1-5 switch panes', () => {
    expect(press(base, 'tab').state.ui.pane).toBe('images');
    expect(press(base, 'shift+tab').state.ui.pane).toBe('logs');
    expect(press(base, '4').state.ui.pane).toBe('limits');
  });

  it('Layers shows the container selected in Containers, or the image selected in Images', () => {
    expect(press(base, 'j', 'j', '3').state.layers.subject).toEqual({
      kind: 'container',
      id: web.Id,
      name: 'web',
    });
    expect(press(base, '2', 'enter').state.layers.subject).toMatchObject({
      kind: 'image',
      name: 'demo:latest',
    });
  });

  it('Logs opens the selected container and lets go of it when left', () => {
    const inLogs = press(base, '5').state;
    expect(inLogs.logs.containerId).toBe(db.Id);
    expect(press(inLogs, '1').state.logs.containerId).toBeUndefined();
  });

  it('Logs follows a restart from the tail, and the next container when the shown one is removed', () => {
    let state = press(base, '5').state;
    const first = state.logs;
    state = apply(state, {
      type: 'logs/appended',
      containerId: db.Id,
      lines: [{ time: 't', stream: 'stdout', text: 'old run' }],
    });
    // Restarted elsewhere: a new StartedAt opens the log again (a new follower, empty buffer).
    const restarted = { ...db, State: { ...db.State, StartedAt: '2026-02-02T00:00:00.000Z' } };
    state = apply(state, { type: 'containers/upserted', record: restarted });
    expect(state.logs.containerId).toBe(db.Id);
    expect(state.logs.generation).toBe(first.generation + 1);
    expect(state.logs.lines).toEqual([]);
    // Removed: the selection moves on, and so do the logs.
    state = apply(state, { type: 'containers/removed', id: db.Id });
    expect(state.logs.containerId).toBe(state.containers.selectedId);
    expect(state.logs.containerId).not.toBe(db.Id);
    expect(state.logs.generation).toBe(first.generation + 2);
  });

  it('? opens the help and Esc closes it', () => {
    const open = press(base, '?').state;
    expect(open.ui.overlay).toEqual({ kind: 'help', scroll: 0 });
    expect(press(open, 'j').state.ui.overlay).toEqual({ kind: 'help', scroll: 1 });
    expect(press(open, 'escape').state.ui.overlay).toBeUndefined();
  });
});

describe('limits', () => {
  const inLimits = press(base, 'j', 'j', 'enter').state;

  it('Enter on Containers opens the limits of the selection', () => {
    expect(inLimits.ui.pane).toBe('limits');
    expect(selectedContainer(inLimits)?.Name).toBe('web');
  });

  it('Enter edits the selected limit from its current value, Enter applies it', () => {
    let { state } = press(inLimits, 'enter');
    expect(state.limits.edit).toMatchObject({ key: 'memory', text: '256m' });
    state = press(state, 'ctrl+u', '5', '1', '2', 'm').state;
    const applied = press(state, 'enter');
    expect(applied.effects).toEqual([
      {
        type: 'apply-limit',
        id: web.Id,
        name: 'web',
        key: 'memory',
        resources: { memory: 512 * 1024 * 1024 },
        display: '512MiB',
      },
    ]);
    expect(applied.state.limits.edit?.applying).toBe(true);
    const done = apply(applied.state, { type: 'limits/applied', containerId: web.Id, key: 'memory' });
    expect(done.limits.edit).toBeUndefined();
  });

  it('edits the limits of a stopped container too (they apply at its next start)', () => {
    // base selects db first; j moves to the exited "old".
    const stopped = press(base, 'j', '4', 'enter');
    expect(selectedContainer(stopped.state)?.Name).toBe('old');
    expect(stopped.state.limits.edit).toMatchObject({ key: 'memory' });
    const typed = press(stopped.state, '6', '4', 'm', 'enter');
    expect(typed.effects).toEqual([expect.objectContaining({ type: 'apply-limit', id: old.Id })]);
  });

  it('a value the parser refuses shows why, without calling the runtime', () => {
    const { state, effects } = press(inLimits, 'enter', 'ctrl+u', '2', 'm', 'enter');
    expect(effects).toEqual([]);
    expect(state.limits.edit?.error).toMatch(/below the minimum of 6m/);
    expect(state.limits.edit?.text).toBe('2m');
    // The record still has the old value: the display reads from it.
    expect(selectedContainer(state)?.HostConfig.Resources.memory).toBe(256 * 1024 * 1024);
  });

  it('a value the runtime refuses shows why, and Esc cancels', () => {
    let { state } = press(inLimits, 'enter');
    state = apply(
      state,
      { type: 'limits/applying' },
      {
        type: 'limits/refused',
        containerId: web.Id,
        key: 'memory',
        error: 'memory+swap limit is below the memory limit',
      },
    );
    expect(state.limits.edit?.error).toMatch(/memory\+swap/);
    expect(press(state, 'escape').state.limits.edit).toBeUndefined();
  });

  it('+ and - step the value, then Enter applies', () => {
    let { state } = press(inLimits, '+');
    expect(state.limits.edit).toMatchObject({ key: 'memory', text: '320m' });
    state = press(state, '+', '-', '-').state;
    expect(state.limits.edit?.text).toBe('256m');
    expect(press(state, 'enter').effects[0]).toMatchObject({ resources: { memory: 256 * 1024 * 1024 } });
  });

  it('refuses more CPUs than the host has, as the CLI does, keeping the old value', () => {
    const typed = press(inLimits, 'j', 'j', 'j', 'enter', 'ctrl+u', '9', '9', '9', 'enter');
    expect(typed.effects).toEqual([]);
    expect(typed.state.limits.edit?.error).toMatch(/--cpus 999 is more than the \d+ CPUs this host has/);
  });

  it('steps pids and cpus from unlimited to a sensible start', () => {
    const pids = press(inLimits, 'j', 'j', 'j', 'j', 'j', 'j', '+').state;
    expect(pids.limits.edit).toMatchObject({ key: 'pidsLimit', text: '100' });
    const cpus = press(inLimits, 'j', 'j', 'j', '+', '-', '-').state;
    expect(cpus.limits.edit).toMatchObject({ key: 'cpus', text: '0.8' });
    expect(press(cpus, 'enter').effects[0]).toMatchObject({
      resources: { cpuQuota: 80000, cpuPeriod: 100000 },
    });
  });

  it('- types a minus while typing, so -1 (no limit) can be typed', () => {
    const { state, effects } = press(inLimits, 'enter', '-', '1', 'enter');
    expect(effects[0]).toMatchObject({ resources: { memory: -1 } });
    expect(state.limits.edit?.applying).toBe(true);
  });

  // Issue 11, defect 2: editing pids 50 and typing 20 applied 5020.
  it('the first key typed replaces the prefilled value', () => {
    const limited = apply(base, {
      type: 'containers/upserted',
      record: { ...web, HostConfig: { ...web.HostConfig, Resources: { pidsLimit: 50 } } },
    });
    const inPids = press(limited, 'j', 'j', 'enter', 'j', 'j', 'j', 'j', 'j', 'j').state;
    const { state, effects } = press(inPids, 'enter', '2', '0', 'enter');
    expect(state.limits.edit?.text).toBe('20');
    expect(effects[0]).toMatchObject({ type: 'apply-limit', resources: { pidsLimit: 20 } });
    // Backspace on the prefilled value clears it too, rather than editing its last digit.
    expect(press(inPids, 'enter', 'backspace').state.limits.edit?.text).toBe('');
    // Once typing, keys append and ↑/↓ step.
    expect(press(inPids, 'enter', '2', '0', 'up').state.limits.edit?.text).toBe('30');
  });

  it('- types in cpuset, so 0-1 stays 0-1', () => {
    const inCpuset = press(inLimits, 'j', 'j', 'j', 'j', 'j').state;
    const { state } = press(inCpuset, 'enter', '0', '-', '1');
    expect(state.limits.edit).toMatchObject({ key: 'cpusetCpus', text: '0-1' });
  });

  it('+ and - keep stepping a value opened by stepping; a digit then replaces it', () => {
    let { state } = press(inLimits, '-', '-');
    expect(state.limits.edit).toMatchObject({ key: 'memory', text: '128m', mode: 'stepping' });
    state = press(state, '9', '6', 'm').state;
    expect(state.limits.edit?.text).toBe('96m');
  });

  it('shows the new value beside the old when an edit loosens a limit more than 10x', () => {
    const limited = apply(base, {
      type: 'containers/upserted',
      record: { ...web, HostConfig: { ...web.HostConfig, Resources: { pidsLimit: 50 } } },
    });
    const inPids = press(limited, 'j', 'j', 'enter', 'j', 'j', 'j', 'j', 'j', 'j').state;
    const pids = limitDefinition('pidsLimit');
    const resources = selectedContainer(inPids)!.HostConfig.Resources;
    expect(loosening(pids, '5020', resources)).toEqual({ before: '50', after: '5020', ratio: 100.4 });
    expect(loosening(pids, '400', resources)).toBeUndefined();
    expect(loosening(pids, '-1', resources)).toMatchObject({ before: '50', after: 'unlimited' });
    expect(loosening(limitDefinition('memory'), '4g', web.HostConfig.Resources)).toMatchObject({
      before: '256MiB',
      after: '4GiB',
      ratio: 16,
    });
  });

  it('the hints are true: every word a hint offers is a value the limit takes', () => {
    for (const definition of LIMITS.filter((candidate) => candidate.editable)) {
      for (const word of definition.noLimitWords) {
        if (word) expect(definition.hint, definition.key).toContain(word);
        expect(() => definition.parse(word, {}), `${definition.key} "${word}"`).not.toThrow();
      }
    }
    const cpuset = limitDefinition('cpusetCpus');
    expect(cpuset.hint).toContain('all');
    expect(cpuset.parse('all', {})).toEqual({ cpusetCpus: allCpus() });
    expect(cpuset.display({ cpusetCpus: allCpus() })).toBe('all');
    expect(cpuset.hint).not.toMatch(/(^|[^0-9])-1/);
  });
});

// Issue 11, defect 10.
describe('the container in Limits removed elsewhere', () => {
  const editing = press(base, 'j', 'j', 'enter', 'enter', '4', '8', 'm').state;

  it('says so, drops the pending edit and does not move to the neighbour', () => {
    expect(editing.limits.edit).toMatchObject({ containerId: web.Id, text: '48m' });
    const gone = apply(
      { ...editing, ui: { ...editing.ui, now: 5 } },
      { type: 'containers/removed', id: web.Id },
    );
    expect(gone.limits.edit).toBeUndefined();
    expect(gone.limits.removed).toEqual({ name: 'web', droppedEdit: 'memory 48m' });
    expect(gone.ui.status?.text).toMatch(
      /web was removed by another process; the edit \(memory 48m\) was not applied/,
    );
    expect(limitsContainer(gone)).toBeUndefined();
    // The selection moved on, the pane did not: Enter and the steps act on nobody.
    expect(selectedContainer(gone)?.Name).not.toBe('web');
    expect(press(gone, 'enter').effects).toEqual([]);
    expect(press(gone, '+').state.limits.edit).toBeUndefined();
    // Choosing again shows the one now selected.
    const again = press(gone, '1', '4').state;
    expect(limitsContainer(again)?.Id).toBe(selectedContainer(gone)?.Id);
    expect(again.limits.removed).toBeUndefined();
  });

  it('an Enter after the removal never applies the edit to another container', () => {
    // The edit was opened on web; db is selected by the time Enter is read.
    const moved = apply(editing, { type: 'containers/removed', id: web.Id });
    const { effects } = press(moved, 'enter');
    expect(effects.filter((effect) => effect.type === 'apply-limit')).toEqual([]);
  });

  it('a late result for another container does not close this edit', () => {
    const late = apply(editing, { type: 'limits/applied', containerId: db.Id, key: 'memory' });
    expect(late.limits.edit?.text).toBe('48m');
  });
});

describe('a container in the Layers pane', () => {
  const subject = { kind: 'container', id: web.Id, name: 'web' } as const;
  const stack = {
    subject,
    layers: [{ index: 0, digest: 'live', size: 5, createdBy: 'w', live: true }],
    totalBytes: 5,
  };
  const opened = apply(
    base,
    { type: 'ui/pane', pane: 'layers' },
    { type: 'layers/open', subject },
    { type: 'layers/stackLoaded', subject, stack },
    {
      type: 'layers/analysisLoaded',
      subject,
      analysis: { efficiency: 1, wastedBytes: 0, inefficiencies: [] },
    },
    { type: 'layers/openTree' },
    {
      type: 'layers/treeLoaded',
      layer: 0,
      aggregated: false,
      root: { path: '/', name: '', type: 'directory', status: 'unchanged', size: 0, children: [] } as never,
    },
  );

  it('refreshes its stack and open tree, keeping what is shown until the new one arrives', () => {
    const refreshed = apply(opened, { type: 'layers/refresh' });
    expect(refreshed.layers.loading).toBe(true);
    expect(refreshed.layers.tree?.loading).toBe(true);
    expect(refreshed.layers.tree?.root).toBe(opened.layers.tree?.root);
    expect(refreshed.layers.analysis).toBe(opened.layers.analysis);
    // A refresh under way is not asked for twice.
    expect(apply(refreshed, { type: 'layers/refresh' })).toBe(refreshed);
  });

  it('moves to the container now selected when the shown one is removed, as Logs does', () => {
    const removed = apply(opened, { type: 'containers/removed', id: web.Id });
    expect(removed.layers.tree).toBeUndefined();
    expect(removed.layers.subject).toMatchObject({ kind: 'container', id: removed.containers.selectedId });
    expect(removed.layers.subject?.id).not.toBe(web.Id);
    // Off screen, it only says so.
    const elsewhere = apply(
      { ...opened, ui: { ...opened.ui, pane: 'images' } },
      {
        type: 'containers/removed',
        id: web.Id,
      },
    );
    expect(elsewhere.layers.subject).toBeUndefined();
    expect(elsewhere.layers.error).toBe('container web was removed');
  });
});

describe('images with several names', () => {
  it('D asks about every name of the image, since they all go with it', () => {
    const tagged = { ...image('demo', [layer('a', 100)]), names: ['demo:latest', 'alias:one'] };
    const state = apply(base, { type: 'images/loaded', records: [tagged] });
    expect(press(state, '2', 'D').state.ui.overlay).toMatchObject({
      kind: 'confirm',
      action: 'remove-image',
      id: tagged.id,
      message: 'Remove image demo:latest, alias:one (all 2 names)?',
    });
  });
});

describe('new container form', () => {
  it('n in Images opens the form; Enter creates from the typed fields', () => {
    let { state } = press(base, '2', 'n');
    expect(state.ui.overlay?.kind).toBe('form');
    state = press(
      state,
      'w',
      'e',
      'b',
      '2',
      'tab',
      ...'sleep 60'.split('').map((char) => (char === ' ' ? 'space' : char)),
      'tab',
      '6',
      '4',
      'm',
    ).state;
    const { effects } = press(state, 'enter');
    expect(effects).toEqual([
      {
        type: 'create-container',
        imageLabel: 'demo:latest',
        options: {
          // By name, as `gantry run demo:latest` records it; not by ID.
          image: 'demo:latest',
          name: 'web2',
          command: ['sleep', '60'],
          tty: true,
          interactive: true,
          resources: { memory: 64 * 1024 * 1024 },
        },
      },
    ]);
  });

  it('a bad field is refused in the form', () => {
    const { state, effects } = press(press(base, '2', 'n').state, 'tab', 'tab', '1', 'x', 'enter');
    expect(effects).toEqual([]);
    expect(state.ui.overlay).toMatchObject({
      form: { errors: { memory: expect.stringMatching(/invalid size "1x"/) } },
    });
  });

  // Issue 11, defect 8: one error per Enter.
  it('says what is wrong with every field at once, and clears a field’s problem when it is edited', () => {
    const submitted = press(
      press(base, '2', 'n').state,
      ...'a b'.split(''),
      'tab',
      "'",
      'tab',
      '1',
      'x',
      'tab',
      ...'99'.split(''),
      'tab',
      '-',
      '5',
      'enter',
    );
    let { state } = submitted;
    expect(submitted.effects).toEqual([]);
    const form = state.ui.overlay?.kind === 'form' ? state.ui.overlay.form : undefined;
    expect(Object.keys(form?.errors ?? {}).sort()).toEqual(['command', 'cpus', 'memory', 'name', 'pids']);
    expect(form?.errors.command).toMatch(/single quote is not closed/);
    expect(form?.errors.cpus).toMatch(/--cpus 99 is more than the \d+ CPUs this host has/);
    // The cursor goes to the first field with a problem; fixing it clears only its own.
    expect(form?.focus).toBe(0);
    state = press(state, 'ctrl+u', 'w', 'e', 'b').state;
    const after = state.ui.overlay?.kind === 'form' ? state.ui.overlay.form : undefined;
    expect(Object.keys(after?.errors ?? {}).sort()).toEqual(['command', 'cpus', 'memory', 'pids']);
  });

  it('splits commands like a shell for quotes', () => {
    expect(splitCommand(`sh -c 'echo "a b"; sleep 1'`)).toEqual(['sh', '-c', 'echo "a b"; sleep 1']);
    expect(splitCommand('  a\\ b  ""  c ')).toEqual(['a b', '', 'c']);
  });

  it('leaves out what was not typed', () => {
    expect(formToCreateOptions(newContainerForm(undefined, 'demo', 'demo'))).toEqual({
      image: 'demo',
      tty: true,
      interactive: true,
      resources: {},
    });
  });
});

describe('onboarding', () => {
  it('offers the default image once on an empty machine', () => {
    const empty = apply(
      initialState(),
      { type: 'containers/loaded', records: [] },
      { type: 'images/loaded', records: [] },
    );
    expect(empty.ui.overlay).toEqual({ kind: 'onboarding', creating: false, error: undefined });
    const { state, effects } = press(empty, 'enter');
    expect(effects).toEqual([{ type: 'create-default-image' }]);
    expect(state.ui.overlay).toMatchObject({ creating: true });
    const dismissed = press(empty, 'escape').state;
    expect(apply(dismissed, { type: 'images/loaded', records: [] }).ui.overlay).toBeUndefined();
  });

  it('does not bother a machine that has containers or images', () => {
    expect(base.ui.overlay).toBeUndefined();
  });
});

describe('stats', () => {
  it('derives rates from two samples and keeps a history', () => {
    const first = deriveSeries(
      sample(web, 1000, {
        cpu: { usageNanos: 1e9, throttledNanos: 0, quotaCpus: 0.5 },
        io: { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 },
        memory: { usage: 10, workingSet: 8, limit: 100, oomKills: 0 },
      }),
      undefined,
    );
    expect(first.cpuPercent).toBeUndefined();
    const second = deriveSeries(
      sample(web, 2000, {
        cpu: { usageNanos: 1.25e9, throttledNanos: 5e6, quotaCpus: 0.5 },
        io: { readBytes: 4096, writeBytes: 0, readOps: 1, writeOps: 0 },
        memory: { usage: 20, workingSet: 16, limit: 100, oomKills: 1 },
      }),
      first,
    );
    expect(second.cpuPercent).toBeCloseTo(25);
    expect(second.cpuQuotaPercent).toBeCloseTo(50);
    expect(second.throttledMsPerSecond).toBeCloseTo(5);
    expect(second.ioReadRate).toBe(4096);
    expect(second.memoryUsage).toBe(16);
    expect(second.oomKills).toBe(1);
    expect(second.history.memory).toEqual([8, 16]);
  });

  it("prefers the engine's own CPU figures", () => {
    const series = deriveSeries(sample(web, 1000, {}, { cpuPercent: 12, cpuQuotaPercent: 24 }), undefined);
    expect(series.cpuPercent).toBe(12);
    expect(series.cpuQuotaPercent).toBe(24);
  });
});

describe('images', () => {
  it('tells shared from unique bytes by layer', () => {
    const shared = layer('base', 1000);
    const one = image('one', [shared, layer('one', 10)]);
    const two = image('two', [shared, layer('two', 20)]);
    const lone = image('lone', [layer('lone', 5)]);
    const sharing = imageSharing([one, two, lone], { [web.Id]: { ...web, Image: one.id } });
    expect(sharing.get(one.id)).toEqual({
      uniqueBytes: 10,
      sharedBytes: 1000,
      sharesWith: ['two:latest'],
      containers: 1,
    });
    expect(sharing.get(lone.id)).toEqual({ uniqueBytes: 5, sharedBytes: 0, sharesWith: [], containers: 0 });
  });
});
