/**
 * The TUI's whole state and the actions that change it. Every pane's state is a plain object
 * changed only by the pure reducers in this folder, so key flows are tested without rendering.
 */
import type { Resources } from '../../runtime/cgroups/types.js';
import type { CreateOptions } from '../../runtime/containers/create.js';
import type { LogCursor } from '../../runtime/containers/logs.js';
import type { ContainerRecord } from '../../runtime/containers/record.js';
import type { ImageRecord } from '../../runtime/images/types.js';
import type { ContainerStats } from '../engine-adapter.js';
import type { HostStatus } from '../hosts/keys.js';
import type { FileNode, LayerAnalysis, LayerStack, LayerSubject } from '../layers/layer-tree-source.js';
import type { StyledSegment } from './log-text.js';

export const PANES = ['containers', 'images', 'layers', 'limits', 'logs'] as const;
export type PaneId = (typeof PANES)[number];

export const PANE_TITLES: Record<PaneId, string> = {
  containers: 'Containers',
  images: 'Images',
  layers: 'Layers',
  limits: 'Limits',
  logs: 'Logs',
};

export interface TerminalSize {
  columns: number;
  rows: number;
}

/** A `/` filter: `editing` while the user types, then kept until cleared. */
export interface FilterState {
  text: string;
  editing: boolean;
}

export const NO_FILTER: FilterState = { text: '', editing: false };

export type ContainerSortKey = 'name' | 'id' | 'status' | 'image' | 'uptime' | 'cpu' | 'memory' | 'pids';
/** The order `o` steps through (the column keys, Shift+letter, go straight to one). */
export const CONTAINER_SORT_KEYS: readonly ContainerSortKey[] = [
  'name',
  'id',
  'status',
  'image',
  'uptime',
  'cpu',
  'memory',
  'pids',
];

export interface ContainersState {
  records: Readonly<Record<string, ContainerRecord>>;
  loaded: boolean;
  selectedId: string | undefined;
  scrollTop: number;
  sort: { key: ContainerSortKey; descending: boolean };
  filter: FilterState;
  /** Stopped containers are listed too (docker ps -a). */
  showAll: boolean;
  /** Containers marked with Space: the actions act on all of them instead of the selected one. */
  marked: readonly string[];
  /** The hosts shown (empty when only this machine's engine is): a HOST column and switcher. */
  hosts: readonly HostStatus[];
  /** The one host whose rows are shown, or all of them. */
  host: string | undefined;
}

export interface ImagesState {
  records: readonly ImageRecord[];
  loaded: boolean;
  selectedId: string | undefined;
  scrollTop: number;
  filter: FilterState;
}

export interface TreeState {
  /** Stack index of the layer shown. */
  layer: number;
  aggregated: boolean;
  root: FileNode | undefined;
  loading: boolean;
  error: string | undefined;
  /** Directories whose open/closed state the user flipped. */
  toggled: readonly string[];
  cursor: number;
  scrollTop: number;
  filter: FilterState;
}

export interface LayersState {
  subject: LayerSubject | undefined;
  stack: LayerStack | undefined;
  loading: boolean;
  error: string | undefined;
  analysis: LayerAnalysis | undefined;
  analyzing: boolean;
  /** Row in the layer list; row 0 is the top of the stack. */
  cursor: number;
  focus: 'layers' | 'tree';
  aggregated: boolean;
  tree: TreeState | undefined;
}

export type LimitKey =
  | 'memory'
  | 'memoryReservation'
  | 'memorySwap'
  | 'cpus'
  | 'cpuShares'
  | 'cpusetCpus'
  | 'pidsLimit'
  | 'blkioWeight'
  | 'ioRead'
  | 'ioWrite'
  | 'netClass';

export interface LimitEdit {
  key: LimitKey;
  /** The container the edit is for: it is applied to this one or to none. */
  containerId: string;
  text: string;
  /**
   * 'typing': keys are text (`-` included: "0-1", "-1"); ↑/↓ step. 'stepping': opened by `+`/`-`
   * in the list, which go on stepping. Either way `selected` text is replaced by the first key.
   */
  mode: 'typing' | 'stepping';
  /** The text is the prefilled (or stepped) value, not typed: the first key typed replaces it. */
  selected: boolean;
  /** Why the value was refused (by the parser or by the runtime); the old value stays. */
  error: string | undefined;
  applying: boolean;
}

export interface LimitsState {
  cursor: number;
  edit: LimitEdit | undefined;
  /** The container the pane shows: chosen on entering it, kept while it is open. */
  shown: { id: string; name: string } | undefined;
  /** The shown container was removed (by another process): said in the pane, never replaced silently. */
  removed: { name: string; droppedEdit: string | undefined } | undefined;
}

export interface LogLine {
  seq: number;
  time: string;
  stream: 'stdout' | 'stderr';
  /** The text without escapes: what search looks at. */
  text: string;
  /** The text with its SGR colours, when it had any. */
  segments?: readonly StyledSegment[];
  /** Where it begins in the log: older lines are read from there. */
  cursor?: LogCursor;
}

export interface LogsState {
  containerId: string | undefined;
  /** The run shown: a restart (a new StartedAt) reads the log again from its tail. */
  startedAt: string | undefined;
  /** Bumped on every (re)open, so the follower restarts even for the same container. */
  generation: number;
  lines: readonly LogLine[];
  /** Lines dropped from the front to bound memory. */
  dropped: number;
  follow: boolean;
  /** Index of the first line on screen when not following. */
  scrollTop: number;
  search: FilterState;
  /** Index (in `lines`) of the current match. */
  match: number | undefined;
  ended: boolean;
  error: string | undefined;
  /** The container `search` was typed for: it is cleared when another one is shown. */
  searchFor: string | undefined;
  /** The log holds lines older than the first one here. */
  older: boolean;
  /** Bumped by the load-older key; the data hook reads a page for each new value. */
  olderRequest: number;
  olderLoading: boolean;
  /** Why older lines cannot be loaded (a remote gantry too old to page), said when `o` is pressed. */
  olderUnsupported: string | undefined;
  /**
   * Newest lines were let go to hold older ones: new output is not added until following again
   * (which reads the tail afresh).
   */
  detached: boolean;
  /** Long lines wrap (true) or are cut, scrolled sideways by `scrollX` columns. */
  wrap: boolean;
  scrollX: number;
  timestamps: boolean;
}

/** Live figures of one container, derived from successive samples. */
export interface StatsSeries {
  time: number;
  cpuPercent: number | undefined;
  /** CPU use as a share of the CFS quota (100 = at the quota). */
  cpuQuotaPercent: number | undefined;
  quotaCpus: number | undefined;
  memoryUsage: number | undefined;
  /**
   * memoryUsage as table rows show it: it moves only when the usage moves by more than the
   * noise of the kernel's per-CPU accounting (a few pages), so idle rows do not redraw.
   */
  memoryShown: number | undefined;
  memoryLimit: number | undefined;
  swapUsage: number | undefined;
  pids: number | undefined;
  pidsLimit: number | undefined;
  oomKills: number | undefined;
  throttledPeriods: number | undefined;
  /** Milliseconds throttled per second since the last sample. */
  throttledMsPerSecond: number | undefined;
  throttledNanos: number | undefined;
  ioReadRate: number | undefined;
  ioWriteRate: number | undefined;
  /** Bytes a second received / sent on the container's own interfaces (full samples only). */
  netRxRate: number | undefined;
  netTxRate: number | undefined;
  raw: ContainerStats;
  history: {
    cpu: readonly number[];
    /** The CPU quota in force at each point of `cpu` (percent of one CPU); undefined: none. */
    cpuLimit: readonly (number | undefined)[];
    memory: readonly number[];
    /** The memory limit in force at each point of `memory`; undefined: none. */
    memoryLimit: readonly (number | undefined)[];
    pids: readonly number[];
    throttled: readonly number[];
    ioRead: readonly number[];
    ioWrite: readonly number[];
    netRx: readonly number[];
    netTx: readonly number[];
  };
}

export interface StatsState {
  byId: Readonly<Record<string, StatsSeries>>;
}

export type ConfirmAction = 'kill' | 'remove' | 'remove-image';

export interface FormField {
  name: 'name' | 'command' | 'memory' | 'cpus' | 'pids';
  label: string;
  value: string;
  placeholder: string;
}

export interface FormState {
  image: string;
  imageLabel: string;
  /** The remote host the image is on (several hosts shown): the container is made there. */
  host?: string;
  fields: readonly FormField[];
  focus: number;
  /** What the runtime said when it refused the container. */
  error: string | undefined;
  /** Each field's problem, all shown at once. */
  errors: Readonly<Partial<Record<FormField['name'], string>>>;
  submitting: boolean;
}

export type Overlay =
  | { kind: 'help'; scroll: number }
  /** The message log; `scroll` counts lines up from the newest. */
  | { kind: 'messages'; scroll: number }
  | {
      kind: 'confirm';
      action: ConfirmAction;
      id: string;
      name: string;
      message: string;
      /** Every container the action is for, when several are marked (id and name are the first). */
      targets?: readonly { id: string; name: string }[];
    }
  | { kind: 'form'; form: FormState }
  /** Pulling an image: the reference typed, then the transfer's progress (see pull.ts). */
  | {
      kind: 'pull';
      reference: string;
      /** The remote host pulled onto (several hosts shown); this machine when absent. */
      host?: string;
      /** Progress in the CLI's words, one line per layer. */
      lines: readonly string[];
      running: boolean;
      result: { ok: boolean; text: string } | undefined;
    }
  /** Building an image: the form, then the build's progress and how it ended (see build.ts). */
  | {
      kind: 'build';
      fields: readonly {
        name: 'context' | 'tag' | 'file';
        label: string;
        value: string;
        placeholder: string;
      }[];
      focus: number;
      /** Progress in `gantry build`'s words, the newest lines (bounded). */
      lines: readonly string[];
      /** Output after the last newline, not yet a line. */
      partial: string;
      running: boolean;
      cancelling: boolean;
      /** The STEP line of the step under way (names the step a failure happened in). */
      step: string | undefined;
      result: { ok: boolean; text: string; cancelled: boolean } | undefined;
    }
  /** `gantry inspect` of a container or an image as scrollable, searchable JSON (see inspect.ts). */
  | {
      kind: 'inspect';
      subject: 'container' | 'image';
      id: string;
      name: string;
      /** The JSON's lines; undefined while it is read. */
      lines: readonly string[] | undefined;
      error: string | undefined;
      /** First line on screen. */
      scroll: number;
      search: FilterState;
      /** Line of the current match. */
      match: number | undefined;
    }
  | { kind: 'onboarding'; creating: boolean; error: string | undefined };

export interface StatusMessage {
  text: string;
  level: 'info' | 'error';
  time: number;
}

export interface UiState {
  pane: PaneId;
  size: TerminalSize;
  overlay: Overlay | undefined;
  status: StatusMessage | undefined;
  /** Every message shown in the status line, oldest first (bounded). */
  messages: readonly StatusMessage[];
  /** Operations under way, by container id ("stopping"), shown in the status column. */
  pending: Readonly<Record<string, string>>;
  /** The onboarding offer was shown or dismissed; it is not shown again. */
  onboarded: boolean;
  /** Milliseconds since epoch of the last clock tick (uptimes). */
  now: number;
}

export interface TuiState {
  ui: UiState;
  containers: ContainersState;
  images: ImagesState;
  layers: LayersState;
  limits: LimitsState;
  logs: LogsState;
  stats: StatsState;
}

export type Action =
  | { type: 'ui/resized'; size: TerminalSize }
  | { type: 'ui/pane'; pane: PaneId }
  | { type: 'ui/paneStep'; delta: 1 | -1 }
  | { type: 'ui/overlay'; overlay: Overlay | undefined }
  | { type: 'ui/status'; text: string; level: 'info' | 'error'; time: number }
  | { type: 'ui/clearStatus' }
  | { type: 'ui/pending'; id: string; label: string | undefined }
  | { type: 'ui/tick'; now: number }
  | { type: 'ui/onboarded' }
  /** With `host`, that host's rows are replaced; without, all of them. */
  | { type: 'containers/loaded'; records: readonly ContainerRecord[]; host?: string }
  /** How each host is doing (several hosts shown). */
  | { type: 'containers/hosts'; hosts: readonly HostStatus[] }
  /** The host switcher: all hosts, then each in turn. */
  | { type: 'containers/nextHost' }
  | { type: 'containers/upserted'; record: ContainerRecord }
  | { type: 'containers/removed'; id: string }
  | { type: 'containers/select'; id: string }
  | { type: 'containers/sort'; key?: ContainerSortKey; reverse?: boolean }
  | { type: 'containers/toggleAll' }
  /** Marks or unmarks the selected container and moves to the next row. */
  | { type: 'containers/mark' }
  /** Marks every container shown, or unmarks them all when they all are. */
  | { type: 'containers/markAll' }
  | { type: 'containers/unmarkAll' }
  /** The images; with `host`, that host's only (its rows are replaced, the others' stay). */
  | { type: 'images/loaded'; records: readonly ImageRecord[]; host?: string }
  | { type: 'images/select'; id: string }
  | { type: 'list/move'; delta: number }
  | { type: 'list/edge'; edge: 'top' | 'bottom' }
  | { type: 'filter/start' }
  | { type: 'filter/input'; text: string }
  | { type: 'filter/commit' }
  | { type: 'filter/clear' }
  | { type: 'layers/open'; subject: LayerSubject }
  | { type: 'layers/stackLoaded'; subject: LayerSubject; stack: LayerStack }
  | { type: 'layers/analysisLoaded'; subject: LayerSubject; analysis: LayerAnalysis }
  | { type: 'layers/failed'; subject: LayerSubject; error: string }
  | { type: 'layers/openTree' }
  | { type: 'layers/closeTree' }
  | { type: 'layers/aggregate' }
  | { type: 'layers/treeLoaded'; layer: number; aggregated: boolean; root: FileNode }
  | { type: 'layers/treeFailed'; layer: number; error: string }
  /** Reads a container's stack, analysis and open tree again: its writable layer changes. */
  | { type: 'layers/refresh' }
  | { type: 'tree/toggle'; path: string; open?: boolean }
  | { type: 'limits/edit'; key: LimitKey; containerId: string; text: string; mode: LimitEdit['mode'] }
  | { type: 'limits/input'; text: string; selected?: boolean }
  | { type: 'limits/cancel' }
  | { type: 'limits/applying' }
  | { type: 'limits/refused'; containerId: string; key: LimitKey; error: string }
  | { type: 'limits/applied'; containerId: string; key: LimitKey }
  | { type: 'logs/open'; containerId: string | undefined; startedAt?: string | undefined }
  | { type: 'logs/appended'; containerId: string; lines: readonly Omit<LogLine, 'seq'>[] }
  | { type: 'logs/ended'; containerId: string; error?: string }
  | { type: 'logs/follow'; follow?: boolean }
  | { type: 'logs/match'; direction: 1 | -1 }
  /** Told by the reader before the first line: whether older lines exist before them. */
  | { type: 'logs/olderExist'; containerId: string; exist: boolean }
  | { type: 'logs/olderUnsupported'; containerId: string; reason: string }
  | { type: 'logs/loadOlder' }
  | {
      type: 'logs/prepended';
      containerId: string;
      lines: readonly Omit<LogLine, 'seq'>[];
      /** Lines older than these exist. */
      older: boolean;
    }
  | { type: 'logs/olderFailed'; containerId: string; error: string }
  | { type: 'logs/wrap' }
  | { type: 'logs/timestamps' }
  | { type: 'logs/scrollX'; delta: number }
  | { type: 'stats/sampled'; samples: readonly ContainerStats[] }
  | { type: 'pull/input'; text: string }
  | { type: 'pull/started' }
  | { type: 'pull/progress'; reference: string; line: string }
  | { type: 'pull/finished'; reference: string; ok: boolean; text: string }
  | { type: 'build/input'; text: string }
  | { type: 'build/focus'; delta: 1 | -1 }
  | { type: 'build/started' }
  /** Output in the CLI's words; `step` is the STEP line when this starts a step. */
  | { type: 'build/output'; text: string; step?: string }
  | { type: 'build/cancelling' }
  | { type: 'build/finished'; ok: boolean; text: string; cancelled?: boolean }
  | { type: 'inspect/loaded'; id: string; lines: readonly string[] }
  | { type: 'inspect/failed'; id: string; error: string }
  | { type: 'inspect/scroll'; delta: number; edge?: 'top' | 'bottom' }
  | { type: 'inspect/search'; text: string; editing: boolean }
  | { type: 'inspect/match'; direction: 1 | -1 }
  | { type: 'form/input'; text: string }
  | { type: 'form/focus'; delta: 1 | -1 }
  | { type: 'form/error'; error: string | undefined }
  | { type: 'form/invalid'; errors: Partial<Record<FormField['name'], string>> }
  | { type: 'form/submitting' }
  | { type: 'onboarding/creating' }
  | { type: 'onboarding/failed'; error: string };

/** Work a key asks for that is not a state change: the runtime does it, then actions report back. */
export type Effect =
  | {
      type: 'container';
      op: 'start' | 'stop' | 'restart' | 'pause' | 'unpause' | 'kill' | 'remove';
      id: string;
      name: string;
    }
  | { type: 'exec'; id: string; name: string }
  | { type: 'apply-limit'; id: string; name: string; key: LimitKey; resources: Resources; display: string }
  /** `host`: the host of the image (several hosts shown); the container is made there. */
  | { type: 'create-container'; options: CreateOptions; imageLabel: string; host?: string }
  | { type: 'remove-image'; id: string; name: string }
  | { type: 'create-default-image' }
  /** Pulls an image as `gantry pull` does, its progress into the pull view. */
  | { type: 'pull'; reference: string; host?: string }
  /** Builds an image as `gantry build` does, its progress into the build view. */
  | { type: 'build'; context: string; tag?: string; file?: string }
  /** Cancels the build under way (its containers and staged layers go, as on Ctrl+C in the CLI). */
  | { type: 'build-cancel' }
  /** Reads what `gantry inspect` prints for it, into the inspect view. */
  | { type: 'inspect'; subject: 'container' | 'image'; id: string }
  /** Puts text on the terminal's clipboard (OSC 52); `what` names it in the status line. */
  | { type: 'copy'; text: string; what: string }
  | { type: 'quit' };
