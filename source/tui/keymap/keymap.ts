/**
 * Every key binding of the TUI, as data. The key handler, the footer and the help overlay all
 * read this one table, and the config file remaps it by command name (see config.ts).
 *
 * Scopes say where a binding applies. The handler looks a key up in the scopes of the current
 * context, most specific first (an open dialog, then the pane's mode, then the pane, then lists,
 * then global), so a pane can reuse a letter that means something else elsewhere.
 */

export type Scope =
  | 'global'
  | 'list'
  | 'containers'
  | 'images'
  | 'layers'
  | 'tree'
  | 'limits'
  | 'logs'
  | 'edit'
  | 'value'
  | 'step'
  | 'confirm'
  | 'form'
  | 'help'
  | 'messages'
  | 'inspect'
  | 'inspectSearch'
  | 'pull'
  | 'build'
  | 'onboarding';

export const COMMANDS = [
  'app.quit',
  'app.help',
  'app.messages',
  'pane.next',
  'pane.previous',
  'pane.containers',
  'pane.images',
  'pane.layers',
  'pane.limits',
  'pane.logs',
  'cursor.up',
  'cursor.down',
  'cursor.pageUp',
  'cursor.pageDown',
  'cursor.top',
  'cursor.bottom',
  'filter.start',
  'filter.clear',
  'container.open',
  'container.startStop',
  'container.pauseUnpause',
  'container.restart',
  'container.kill',
  'container.remove',
  'container.exec',
  'container.new',
  'container.sort',
  'container.sortReverse',
  'container.toggleAll',
  'container.nextHost',
  'container.mark',
  'container.markAll',
  'container.inspect',
  'container.copyId',
  'sort.name',
  'sort.id',
  'sort.image',
  'sort.status',
  'sort.uptime',
  'sort.cpu',
  'sort.memory',
  'sort.pids',
  'image.open',
  'image.new',
  'image.remove',
  'image.inspect',
  'image.pull',
  'image.build',
  'image.createDefault',
  'layers.open',
  'layers.aggregate',
  'tree.toggle',
  'tree.expand',
  'tree.collapse',
  'tree.back',
  'tree.filter',
  'limit.edit',
  'limit.increase',
  'limit.decrease',
  'logs.follow',
  'logs.search',
  'logs.nextMatch',
  'logs.previousMatch',
  'logs.older',
  'logs.wrap',
  'logs.timestamps',
  'logs.left',
  'logs.right',
  'edit.apply',
  'edit.cancel',
  'confirm.yes',
  'confirm.no',
  'form.next',
  'form.previous',
  'form.submit',
  'form.cancel',
  'help.close',
  'messages.close',
  'inspect.close',
  'inspect.search',
  'inspect.nextMatch',
  'inspect.previousMatch',
  'inspect.copyId',
  'pull.start',
  'pull.close',
  'build.start',
  'build.next',
  'build.previous',
  'build.close',
  'onboarding.create',
  'onboarding.dismiss',
] as const;

export type CommandId = (typeof COMMANDS)[number];

export interface Binding {
  command: CommandId;
  scope: Scope;
  /** Key names as `normalizeKey` produces them: "q", "K", "ctrl+c", "shift+tab", "enter", "up". */
  keys: readonly string[];
  /** One or two words for the footer. */
  label: string;
  /** A sentence for the help overlay. */
  description: string;
  /** Shown in the footer when its scope is active. */
  footer?: boolean;
}

export type Keymap = readonly Binding[];

export const DEFAULT_KEYMAP: Keymap = [
  {
    command: 'app.quit',
    scope: 'global',
    keys: ['q', 'ctrl+c'],
    label: 'quit',
    description: 'Quit Gantry (containers keep running)',
    footer: true,
  },
  {
    command: 'app.help',
    scope: 'global',
    keys: ['?'],
    label: 'help',
    description: 'Show all keys',
    footer: true,
  },
  {
    command: 'app.messages',
    scope: 'global',
    keys: ['m'],
    label: 'messages',
    description: 'Show every message of this session in full (the status line shows the last)',
  },
  {
    command: 'pane.next',
    scope: 'global',
    keys: ['tab'],
    label: 'next pane',
    description: 'Go to the next pane',
  },
  {
    command: 'pane.previous',
    scope: 'global',
    keys: ['shift+tab'],
    label: 'prev pane',
    description: 'Go to the previous pane',
  },
  {
    command: 'pane.containers',
    scope: 'global',
    keys: ['1'],
    label: 'containers',
    description: 'Containers pane',
  },
  { command: 'pane.images', scope: 'global', keys: ['2'], label: 'images', description: 'Images pane' },
  {
    command: 'pane.layers',
    scope: 'global',
    keys: ['3'],
    label: 'layers',
    description: 'Layers of the selected image or container',
  },
  {
    command: 'pane.limits',
    scope: 'global',
    keys: ['4'],
    label: 'limits',
    description: 'Limits and live usage of the selected container',
  },
  {
    command: 'pane.logs',
    scope: 'global',
    keys: ['5'],
    label: 'logs',
    description: 'Output of the selected container',
  },

  {
    command: 'cursor.up',
    scope: 'list',
    keys: ['up', 'k'],
    label: 'up',
    description: 'Move the selection up',
  },
  {
    command: 'cursor.down',
    scope: 'list',
    keys: ['down', 'j'],
    label: 'down',
    description: 'Move the selection down',
  },
  {
    command: 'cursor.pageUp',
    scope: 'list',
    keys: ['pageup', 'ctrl+b'],
    label: 'page up',
    description: 'Move a page up',
  },
  {
    command: 'cursor.pageDown',
    scope: 'list',
    keys: ['pagedown', 'ctrl+f'],
    label: 'page down',
    description: 'Move a page down',
  },
  {
    command: 'cursor.top',
    scope: 'list',
    keys: ['home', 'g'],
    label: 'top',
    description: 'Go to the first row',
  },
  {
    command: 'cursor.bottom',
    scope: 'list',
    keys: ['end', 'G'],
    label: 'bottom',
    description: 'Go to the last row',
  },
  {
    command: 'filter.start',
    scope: 'list',
    keys: ['/'],
    label: 'filter',
    description: 'Filter the rows (Enter keeps the filter and selects the first match)',
    footer: true,
  },
  {
    command: 'filter.clear',
    scope: 'list',
    keys: ['escape'],
    label: 'clear',
    description: 'Clear the filter',
  },

  {
    command: 'container.open',
    scope: 'containers',
    keys: ['enter'],
    label: 'limits',
    description: 'Open the limits of the selected container',
  },
  {
    command: 'container.startStop',
    scope: 'containers',
    keys: ['s'],
    label: 'start/stop',
    description: 'Start a stopped container, stop a running one',
    footer: true,
  },
  {
    command: 'container.pauseUnpause',
    scope: 'containers',
    keys: ['p'],
    label: 'pause',
    description: 'Pause (freeze) or unpause the container',
    footer: true,
  },
  {
    command: 'container.restart',
    scope: 'containers',
    keys: ['r'],
    label: 'restart',
    description: 'Restart the container',
    footer: true,
  },
  {
    command: 'container.kill',
    scope: 'containers',
    keys: ['K'],
    label: 'kill',
    description: 'Kill the container (asks first)',
    footer: true,
  },
  {
    command: 'container.remove',
    scope: 'containers',
    keys: ['D'],
    label: 'remove',
    description: 'Remove the container, stopping it first (asks first)',
    footer: true,
  },
  {
    command: 'container.exec',
    scope: 'containers',
    keys: ['e'],
    label: 'shell',
    description: 'Open a shell in the container; exit it to come back',
    footer: true,
  },
  {
    command: 'container.new',
    scope: 'containers',
    keys: ['n'],
    label: 'new',
    description: "Run a new container from the selected container's image",
    footer: true,
  },
  {
    command: 'container.sort',
    scope: 'containers',
    keys: ['o'],
    label: 'sort',
    description: 'Sort by the next column',
  },
  {
    command: 'container.sortReverse',
    scope: 'containers',
    keys: ['O'],
    label: 'reverse',
    description: 'Reverse the sort order',
  },
  {
    command: 'container.toggleAll',
    scope: 'containers',
    keys: ['a'],
    label: 'all',
    description: 'Show or hide stopped containers',
  },
  {
    command: 'container.nextHost',
    scope: 'containers',
    keys: ['H'],
    label: 'host',
    description: 'Show the containers of one host, the next one each time, then of all hosts again',
  },
  {
    command: 'container.mark',
    scope: 'containers',
    keys: ['space'],
    label: 'mark',
    description:
      'Mark or unmark the container and go to the next; s, p, r, K and D then act on every marked one (Esc unmarks)',
    footer: true,
  },
  {
    command: 'container.inspect',
    scope: 'containers',
    keys: ['i'],
    label: 'inspect',
    description: 'Inspect the container: its config, env, mounts, limits and state as JSON (y copies its id)',
    footer: true,
  },
  {
    command: 'container.copyId',
    scope: 'containers',
    keys: ['y'],
    label: 'copy id',
    description: "Copy the container's id to the clipboard (OSC 52, where the terminal allows it)",
  },
  {
    command: 'container.markAll',
    scope: 'containers',
    keys: ['*'],
    label: 'mark all',
    description: 'Mark every container shown (the filter narrows them), or unmark them all',
  },

  {
    command: 'sort.name',
    scope: 'containers',
    keys: ['N'],
    label: 'by name',
    description: 'Sort by NAME; again reverses it',
  },
  {
    command: 'sort.id',
    scope: 'containers',
    keys: ['I'],
    label: 'by id',
    description: 'Sort by ID; again reverses it',
  },
  {
    command: 'sort.image',
    scope: 'containers',
    keys: ['E'],
    label: 'by image',
    description: 'Sort by IMAGE (imagE); again reverses it',
  },
  {
    command: 'sort.status',
    scope: 'containers',
    keys: ['S'],
    label: 'by status',
    description: 'Sort by STATUS; again reverses it',
  },
  {
    command: 'sort.uptime',
    scope: 'containers',
    keys: ['U'],
    label: 'by uptime',
    description: 'Sort by UP (uptime); again reverses it',
  },
  {
    command: 'sort.cpu',
    scope: 'containers',
    keys: ['C'],
    label: 'by cpu',
    description: 'Sort by CPU%; again reverses it',
  },
  {
    command: 'sort.memory',
    scope: 'containers',
    keys: ['M'],
    label: 'by memory',
    description: 'Sort by MEM; again reverses it',
  },
  {
    command: 'sort.pids',
    scope: 'containers',
    keys: ['P'],
    label: 'by pids',
    description: 'Sort by PIDS; again reverses it',
  },
  {
    command: 'image.open',
    scope: 'images',
    keys: ['enter'],
    label: 'layers',
    description: 'Open the layers of the selected image',
    footer: true,
  },
  {
    command: 'image.new',
    scope: 'images',
    keys: ['n'],
    label: 'run',
    description: 'Run a new container from the selected image',
    footer: true,
  },
  {
    command: 'image.remove',
    scope: 'images',
    keys: ['D'],
    label: 'remove',
    description: 'Remove the image (asks first)',
    footer: true,
  },
  {
    command: 'image.pull',
    scope: 'images',
    keys: ['P'],
    label: 'pull',
    description: 'Pull an image from a registry (type its reference), with the progress gantry pull shows',
    footer: true,
  },
  {
    command: 'image.build',
    scope: 'images',
    keys: ['b'],
    label: 'build',
    description:
      'Build an image from a Containerfile (context, tag, file), with the progress gantry build shows',
    footer: true,
  },
  {
    command: 'image.inspect',
    scope: 'images',
    keys: ['i'],
    label: 'inspect',
    description: 'Inspect the image: its config, layers and history as JSON (y copies its id)',
    footer: true,
  },
  {
    command: 'container.nextHost',
    scope: 'images',
    keys: ['H'],
    label: 'host',
    description: 'Show the images of one host, the next one each time, then of all hosts again',
  },
  {
    command: 'image.createDefault',
    scope: 'images',
    keys: ['c'],
    label: 'host image',
    description: "Create the default image from this host's binaries",
    footer: true,
  },

  {
    command: 'layers.open',
    scope: 'layers',
    keys: ['enter'],
    label: 'files',
    description: 'Open the file tree of the selected layer',
    footer: true,
  },
  {
    command: 'layers.aggregate',
    scope: 'layers',
    keys: ['a'],
    label: 'aggregate',
    description: "Switch between the layer's own changes and the whole filesystem up to it",
    footer: true,
  },
  {
    command: 'tree.toggle',
    scope: 'tree',
    keys: ['enter', 'space'],
    label: 'fold',
    description: 'Collapse or expand the directory',
    footer: true,
  },
  {
    command: 'tree.expand',
    scope: 'tree',
    keys: ['right', 'l'],
    label: 'expand',
    description: 'Expand the directory',
  },
  {
    command: 'tree.collapse',
    scope: 'tree',
    keys: ['left', 'h'],
    label: 'collapse',
    description: 'Collapse the directory',
  },
  {
    command: 'tree.filter',
    scope: 'tree',
    keys: ['/'],
    label: 'filter',
    description: 'Filter the tree by path',
    footer: true,
  },
  {
    command: 'layers.aggregate',
    scope: 'tree',
    keys: ['a'],
    label: 'aggregate',
    description: "Switch between the layer's own changes and the whole filesystem up to it",
    footer: true,
  },
  {
    command: 'tree.back',
    scope: 'tree',
    keys: ['escape'],
    label: 'layers',
    description: 'Back to the layer list',
    footer: true,
  },

  {
    command: 'limit.edit',
    scope: 'limits',
    keys: ['enter'],
    label: 'edit',
    description: 'Type a new value for the selected limit',
    footer: true,
  },
  {
    command: 'limit.increase',
    scope: 'limits',
    keys: ['+', '='],
    label: '+step',
    description: 'Raise the selected limit by a step (Enter applies)',
    footer: true,
  },
  {
    command: 'limit.decrease',
    scope: 'limits',
    keys: ['-', '_'],
    label: '-step',
    description: 'Lower the selected limit by a step (Enter applies)',
    footer: true,
  },

  {
    command: 'logs.follow',
    scope: 'logs',
    keys: ['f'],
    label: 'follow',
    description: 'Follow new output (or stop following)',
    footer: true,
  },
  {
    command: 'logs.search',
    scope: 'logs',
    keys: ['/'],
    label: 'search',
    description: 'Search the output',
    footer: true,
  },
  {
    command: 'logs.nextMatch',
    scope: 'logs',
    keys: ['n'],
    label: 'next',
    description: 'Next match',
    footer: true,
  },
  {
    command: 'logs.previousMatch',
    scope: 'logs',
    keys: ['N'],
    label: 'previous',
    description: 'Previous match',
  },
  {
    command: 'logs.older',
    scope: 'logs',
    keys: ['o'],
    label: 'older',
    description: 'Load older lines (when the header says they exist)',
  },
  {
    command: 'logs.wrap',
    scope: 'logs',
    keys: ['w'],
    label: 'wrap',
    description: 'Wrap long lines, or cut them and scroll sideways',
  },
  {
    command: 'logs.timestamps',
    scope: 'logs',
    keys: ['t'],
    label: 'times',
    description: 'Show when each line was written',
  },
  {
    command: 'logs.left',
    scope: 'logs',
    keys: ['left', 'h'],
    label: 'left',
    description: 'Scroll long lines left (when not wrapping)',
  },
  {
    command: 'logs.right',
    scope: 'logs',
    keys: ['right', 'l'],
    label: 'right',
    description: 'Scroll long lines right (when not wrapping)',
  },

  {
    command: 'edit.apply',
    scope: 'edit',
    keys: ['enter'],
    label: 'keep',
    description: 'Keep the filter and select the first match',
    footer: true,
  },
  {
    command: 'edit.cancel',
    scope: 'edit',
    keys: ['escape'],
    label: 'clear',
    description: 'Clear the filter',
    footer: true,
  },

  {
    command: 'edit.apply',
    scope: 'value',
    keys: ['enter'],
    label: 'apply',
    description: 'Apply the value to the running container',
    footer: true,
  },
  {
    command: 'edit.cancel',
    scope: 'value',
    keys: ['escape'],
    label: 'cancel',
    description: 'Cancel; the old value stays',
    footer: true,
  },
  {
    command: 'limit.increase',
    scope: 'value',
    keys: ['up'],
    label: 'step up',
    description: 'Raise the value by a step (+ and - are typed: 0-1, -1)',
    footer: true,
  },
  {
    command: 'limit.decrease',
    scope: 'value',
    keys: ['down'],
    label: 'step down',
    description: 'Lower the value by a step',
    footer: true,
  },
  {
    command: 'limit.increase',
    scope: 'step',
    keys: ['+', '='],
    label: '+step',
    description: 'Raise the value by another step',
    footer: true,
  },
  {
    command: 'limit.decrease',
    scope: 'step',
    keys: ['-', '_'],
    label: '-step',
    description: 'Lower the value by another step (type a digit to replace it instead)',
    footer: true,
  },

  {
    command: 'confirm.yes',
    scope: 'confirm',
    keys: ['y'],
    label: 'yes',
    description: 'Confirm',
    footer: true,
  },
  {
    command: 'confirm.no',
    scope: 'confirm',
    keys: ['n', 'escape'],
    label: 'no',
    description: 'Cancel',
    footer: true,
  },

  {
    command: 'form.next',
    scope: 'form',
    keys: ['tab', 'down'],
    label: 'next field',
    description: 'Next field',
    footer: true,
  },
  {
    command: 'form.previous',
    scope: 'form',
    keys: ['shift+tab', 'up'],
    label: 'prev field',
    description: 'Previous field',
  },
  {
    command: 'form.submit',
    scope: 'form',
    keys: ['enter'],
    label: 'run',
    description: 'Create and start the container',
    footer: true,
  },
  {
    command: 'form.cancel',
    scope: 'form',
    keys: ['escape'],
    label: 'cancel',
    description: 'Close the form',
    footer: true,
  },

  {
    command: 'help.close',
    scope: 'help',
    keys: ['escape', '?', 'q'],
    label: 'close',
    description: 'Close the help',
    footer: true,
  },
  {
    command: 'cursor.down',
    scope: 'help',
    keys: ['down', 'j'],
    label: 'scroll',
    description: 'Scroll down',
    footer: true,
  },
  { command: 'cursor.up', scope: 'help', keys: ['up', 'k'], label: 'up', description: 'Scroll up' },
  {
    command: 'cursor.pageDown',
    scope: 'help',
    keys: ['pagedown', 'space'],
    label: 'page',
    description: 'Scroll a page down',
  },
  {
    command: 'cursor.pageUp',
    scope: 'help',
    keys: ['pageup'],
    label: 'page up',
    description: 'Scroll a page up',
  },

  {
    command: 'messages.close',
    scope: 'messages',
    keys: ['escape', 'm', 'q'],
    label: 'close',
    description: 'Close the messages',
    footer: true,
  },
  {
    command: 'cursor.up',
    scope: 'messages',
    keys: ['up', 'k'],
    label: 'older',
    description: 'Scroll to older messages',
    footer: true,
  },
  {
    command: 'cursor.down',
    scope: 'messages',
    keys: ['down', 'j'],
    label: 'newer',
    description: 'Scroll to newer messages',
  },
  {
    command: 'cursor.pageUp',
    scope: 'messages',
    keys: ['pageup', 'ctrl+b'],
    label: 'page up',
    description: 'A page of older messages',
  },
  {
    command: 'cursor.pageDown',
    scope: 'messages',
    keys: ['pagedown', 'ctrl+f', 'space'],
    label: 'page down',
    description: 'A page of newer messages',
  },

  {
    command: 'inspect.close',
    scope: 'inspect',
    keys: ['escape', 'q', 'i'],
    label: 'close',
    description: 'Close the inspect view',
    footer: true,
  },
  {
    command: 'cursor.down',
    scope: 'inspect',
    keys: ['down', 'j'],
    label: 'down',
    description: 'Scroll down',
  },
  { command: 'cursor.up', scope: 'inspect', keys: ['up', 'k'], label: 'up', description: 'Scroll up' },
  {
    command: 'cursor.pageDown',
    scope: 'inspect',
    keys: ['pagedown', 'space', 'ctrl+f'],
    label: 'page',
    description: 'Scroll a page down',
  },
  {
    command: 'cursor.pageUp',
    scope: 'inspect',
    keys: ['pageup', 'ctrl+b'],
    label: 'page up',
    description: 'Scroll a page up',
  },
  {
    command: 'cursor.top',
    scope: 'inspect',
    keys: ['home', 'g'],
    label: 'top',
    description: 'Go to the top',
  },
  {
    command: 'cursor.bottom',
    scope: 'inspect',
    keys: ['end', 'G'],
    label: 'bottom',
    description: 'Go to the end',
  },
  {
    command: 'inspect.search',
    scope: 'inspect',
    keys: ['/'],
    label: 'search',
    description: 'Search the JSON (Enter keeps the search, n/N move between matches)',
    footer: true,
  },
  {
    command: 'inspect.nextMatch',
    scope: 'inspect',
    keys: ['n'],
    label: 'next',
    description: 'Next match',
    footer: true,
  },
  {
    command: 'inspect.previousMatch',
    scope: 'inspect',
    keys: ['N'],
    label: 'prev',
    description: 'Previous match',
  },
  {
    command: 'inspect.copyId',
    scope: 'inspect',
    keys: ['y'],
    label: 'copy id',
    description: 'Copy the id to the clipboard (OSC 52, where the terminal allows it)',
    footer: true,
  },
  {
    command: 'edit.apply',
    scope: 'inspectSearch',
    keys: ['enter'],
    label: 'keep',
    description: 'Keep the search and go back to scrolling',
    footer: true,
  },
  {
    command: 'edit.cancel',
    scope: 'inspectSearch',
    keys: ['escape'],
    label: 'clear',
    description: 'Clear the search',
    footer: true,
  },

  {
    command: 'pull.start',
    scope: 'pull',
    keys: ['enter'],
    label: 'pull',
    description: 'Pull the image typed',
    footer: true,
  },
  {
    command: 'pull.close',
    scope: 'pull',
    keys: ['escape'],
    label: 'close',
    description: 'Close the pull view (a pull under way goes on and says when it ends)',
    footer: true,
  },

  {
    command: 'build.start',
    scope: 'build',
    keys: ['enter'],
    label: 'build',
    description: 'Build with what the form says',
    footer: true,
  },
  {
    command: 'build.next',
    scope: 'build',
    keys: ['tab', 'down'],
    label: 'next field',
    description: 'Next field',
    footer: true,
  },
  {
    command: 'build.previous',
    scope: 'build',
    keys: ['shift+tab', 'up'],
    label: 'prev field',
    description: 'Previous field',
  },
  {
    command: 'build.close',
    scope: 'build',
    keys: ['escape'],
    label: 'cancel/close',
    description: 'Cancel the build under way (nothing of it is kept); once it has ended, close the view',
    footer: true,
  },

  {
    command: 'onboarding.create',
    scope: 'onboarding',
    keys: ['enter'],
    label: 'create image',
    description: "Create the default image from this host's binaries",
    footer: true,
  },
  {
    command: 'onboarding.dismiss',
    scope: 'onboarding',
    keys: ['escape'],
    label: 'not now',
    description: 'Close this message',
    footer: true,
  },
];

/** Scopes whose keys are typed text: anything not bound there is inserted. */
export const TEXT_SCOPES: ReadonlySet<Scope> = new Set([
  'edit',
  'value',
  'step',
  'form',
  'inspectSearch',
  'pull',
  'build',
]);

/** The command bound to `key` in the first of `scopes` that binds it. */
export function lookup(keymap: Keymap, scopes: readonly Scope[], key: string): CommandId | undefined {
  for (const scope of scopes) {
    const binding = keymap.find((candidate) => candidate.scope === scope && candidate.keys.includes(key));
    if (binding) return binding.command;
  }
  return undefined;
}

/** Bindings to show in the footer for the current scopes, most specific first, one per command. */
export function footerBindings(
  keymap: Keymap,
  scopes: readonly Scope[],
  hidden: ReadonlySet<CommandId> = new Set(),
): Binding[] {
  const seenCommands = new Set<CommandId>();
  const seenKeys = new Set<string>();
  const result: Binding[] = [];
  for (const scope of scopes) {
    for (const binding of keymap) {
      if (
        binding.scope !== scope ||
        !binding.footer ||
        binding.keys.length === 0 ||
        hidden.has(binding.command)
      )
        continue;
      // A key shadowed by a more specific scope does the specific thing: show that one only.
      if (seenCommands.has(binding.command) || seenKeys.has(binding.keys[0]!)) continue;
      seenCommands.add(binding.command);
      for (const key of binding.keys) seenKeys.add(key);
      result.push(binding);
    }
  }
  return result;
}

/** "ctrl+c" -> "^C", "escape" -> "Esc": how a key name is printed. */
export function displayKey(key: string): string {
  const names: Record<string, string> = {
    escape: 'Esc',
    enter: 'Enter',
    tab: 'Tab',
    'shift+tab': 'S-Tab',
    up: '↑',
    down: '↓',
    left: '←',
    right: '→',
    pageup: 'PgUp',
    pagedown: 'PgDn',
    home: 'Home',
    end: 'End',
    space: 'Space',
    backspace: 'Bksp',
  };
  if (names[key]) return names[key];
  const ctrl = /^ctrl\+(.)$/.exec(key);
  if (ctrl) return `^${ctrl[1]!.toUpperCase()}`;
  return key;
}

/** Scope titles in the help overlay, in the order shown. */
export const SCOPE_TITLES: readonly [Scope, string][] = [
  ['global', 'Everywhere'],
  ['list', 'Lists'],
  ['containers', 'Containers'],
  ['images', 'Images'],
  ['layers', 'Layers'],
  ['tree', 'File tree'],
  ['limits', 'Limits'],
  ['logs', 'Logs'],
  ['edit', 'Typing a filter or search'],
  ['value', 'Typing a limit'],
  ['step', 'Stepping a limit (after + or - in the list)'],
  ['form', 'New container form'],
  ['confirm', 'Confirmations'],
  ['messages', 'Messages (m)'],
  ['inspect', 'Inspect view (i)'],
  ['inspectSearch', 'Typing a search in the inspect view'],
  ['pull', 'Pulling an image (P in Images)'],
  ['build', 'Building an image (b in Images)'],
];

export interface HelpLine {
  heading?: string;
  keys?: string;
  text?: string;
  command?: CommandId;
}

/** The help overlay's lines: a heading per scope, then its bindings. */
export function helpLines(keymap: Keymap): HelpLine[] {
  const out: HelpLine[] = [];
  for (const [scope, title] of SCOPE_TITLES) {
    const bindings = keymap.filter((binding) => binding.scope === scope && binding.keys.length > 0);
    if (bindings.length === 0) continue;
    out.push({ heading: title });
    for (const binding of bindings)
      out.push({
        keys: binding.keys.map(displayKey).join(' '),
        text: binding.description,
        command: binding.command,
      });
  }
  return out;
}
