/**
 * Derived data: the rows a pane shows, in order, and what the selection is. Each selector
 * remembers its last inputs, so a render that changed nothing it reads gets the same array back
 * and memoised rows do not re-render.
 */
import type { ContainerRecord } from '../../runtime/containers/record.js';
import { isInfra, POD_ID_LABEL } from '../../runtime/kube/labels.js';
import type { ImageRecord } from '../../runtime/images/types.js';
import { hostOf, LOCAL_HOST, realId } from '../hosts/keys.js';
import type { Scope } from '../keymap/keymap.js';
import type { ContainersState, ImagesState, LogLine, StatsState, TuiState } from './types.js';

/** Remembers the last result per identical (===) inputs. */
export function memoizeLast<Args extends readonly unknown[], Result>(
  compute: (...args: Args) => Result,
): (...args: Args) => Result {
  let lastArgs: Args | undefined;
  let lastResult: Result;
  return (...args: Args) => {
    if (
      lastArgs &&
      lastArgs.length === args.length &&
      lastArgs.every((value, index) => value === args[index])
    )
      return lastResult;
    lastResult = compute(...args);
    lastArgs = args;
    return lastResult;
  };
}

export function isActive(record: ContainerRecord): boolean {
  return record.State.Status === 'running' || record.State.Status === 'paused';
}

export function displayImage(record: ContainerRecord): string {
  return record.ImageName || record.Config.Image || record.Image.replace(/^sha256:/, '').slice(0, 12);
}

export function commandLine(record: ContainerRecord): string {
  return [...record.Config.Entrypoint, ...record.Config.Cmd].join(' ');
}

const STATUS_ORDER: Record<string, number> = { running: 0, paused: 1, created: 2, removing: 3, exited: 4 };

function compareContainers(
  a: ContainerRecord,
  b: ContainerRecord,
  key: ContainersState['sort']['key'],
  stats: StatsState,
): number {
  // The figure as the row shows it (CPU to a tenth of a percent, memory as steadied for the
  // row): idle containers whose figures jitter below what is shown keep their order, so a
  // sample that changes nothing on screen does not reorder the table and draw a frame.
  const figure = (record: ContainerRecord): number => {
    const series = stats.byId[record.Id];
    if (!isActive(record) || !series) return -1;
    if (key === 'cpu') return series.cpuPercent === undefined ? -1 : Math.round(series.cpuPercent * 10);
    if (key === 'memory') return series.memoryShown ?? series.memoryUsage ?? -1;
    return series.pids ?? -1;
  };
  switch (key) {
    case 'name':
      return a.Name.localeCompare(b.Name);
    case 'id':
      return a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0;
    case 'status':
      return (
        (STATUS_ORDER[a.State.Status] ?? 9) - (STATUS_ORDER[b.State.Status] ?? 9) ||
        a.Name.localeCompare(b.Name)
      );
    case 'image':
      return displayImage(a).localeCompare(displayImage(b)) || a.Name.localeCompare(b.Name);
    case 'uptime': {
      const started = (record: ContainerRecord) =>
        isActive(record) ? Date.parse(record.State.StartedAt) : Number.POSITIVE_INFINITY;
      return started(a) - started(b) || a.Name.localeCompare(b.Name);
    }
    default:
      // Figures sort biggest first, the way ctop and top show them.
      return figure(b) - figure(a) || a.Name.localeCompare(b.Name);
  }
}

/** A remote host's name (filtering "web" finds the rows of host web too); nothing for this machine. */
function remoteHostOf(key: string): string {
  const host = hostOf(key);
  return host === LOCAL_HOST ? '' : host;
}

function containerMatches(record: ContainerRecord, needle: string): boolean {
  if (!needle) return true;
  const haystack =
    `${record.Name} ${realId(record.Id).slice(0, 12)} ${remoteHostOf(record.Id)} ${displayImage(record)} ${record.State.Status} ${commandLine(record)}`.toLowerCase();
  return needle
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => haystack.includes(word));
}

/** The previous list when `next` has the same records in the same order. */
function sameOrKeep<T>(previous: readonly T[] | undefined, next: T[]): T[] {
  if (previous?.length === next.length && previous.every((item, index) => item === next[index]))
    return previous as T[];
  return next;
}

let lastSorted: ContainerRecord[] | undefined;
const sortedContainers = memoizeLast(
  (
    records: ContainersState['records'],
    sort: ContainersState['sort'],
    filterText: string,
    showAll: boolean,
    stats: StatsState | undefined,
    host: string | undefined,
  ): ContainerRecord[] => {
    const list = Object.values(records).filter(
      (record) =>
        (showAll || isActive(record)) &&
        (host === undefined || hostOf(record.Id) === host) &&
        containerMatches(record, filterText),
    );
    list.sort((a, b) => compareContainers(a, b, sort.key, stats ?? { byId: {} }));
    if (sort.descending) list.reverse();
    // Sorted by a figure, every sample re-sorts: the same order must stay the same array, or
    // everything that reads the list (the rows on screen, the sampler) sees a change.
    lastSorted = sameOrKeep(lastSorted, groupPods(list));
    return lastSorted;
  },
);

/**
 * A pod's containers listed together where its first one sorts, its infra container leading the
 * group (`kube play` pods); containers of no pod keep their place.
 */
export function groupPods(list: readonly ContainerRecord[]): ContainerRecord[] {
  const groups = new Map<string, ContainerRecord[]>();
  for (const record of list) {
    const pod = record.Config.Labels?.[POD_ID_LABEL];
    if (pod) groups.set(pod, [...(groups.get(pod) ?? []), record]);
  }
  if (groups.size === 0) return [...list];
  const result: ContainerRecord[] = [];
  const placed = new Set<string>();
  for (const record of list) {
    const pod = record.Config.Labels?.[POD_ID_LABEL];
    if (!pod) result.push(record);
    else if (!placed.has(pod)) {
      placed.add(pod);
      const members = groups.get(pod)!;
      result.push(...members.filter(isInfra), ...members.filter((member) => !isInfra(member)));
    }
  }
  return result;
}

/** The container rows in display order (filtered, sorted). */
export function visibleContainers(state: TuiState): ContainerRecord[] {
  const { records, sort, filter, showAll, host } = state.containers;
  // Only figure sorts depend on the samples; name sorts stay put while stats tick.
  const byFigure = sort.key === 'cpu' || sort.key === 'memory' || sort.key === 'pids';
  return sortedContainers(records, sort, filter.text, showAll, byFigure ? state.stats : undefined, host);
}

export function selectedContainer(state: TuiState): ContainerRecord | undefined {
  const id = state.containers.selectedId;
  return id === undefined ? undefined : state.containers.records[id];
}

function imageMatches(record: ImageRecord, needle: string): boolean {
  if (!needle) return true;
  const haystack = `${record.names.join(' ')} ${realId(record.id)
    .replace(/^sha256:/, '')
    .slice(0, 12)} ${remoteHostOf(record.id)}`.toLowerCase();
  return haystack.includes(needle.toLowerCase());
}

const filteredImages = memoizeLast(
  (records: ImagesState['records'], filterText: string, host: string | undefined) =>
    records.filter(
      (record) => (host === undefined || hostOf(record.id) === host) && imageMatches(record, filterText),
    ),
);

/** The images the pane lists: the host shown (H) and the filter's. */
export function visibleImages(state: TuiState): readonly ImageRecord[] {
  return filteredImages(state.images.records, state.images.filter.text, state.containers.host);
}

export function selectedImage(state: TuiState): ImageRecord | undefined {
  return state.images.records.find((record) => record.id === state.images.selectedId);
}

export function imageLabel(record: ImageRecord): string {
  return (
    record.names[0] ??
    record.digests?.[0]?.split('@')[0] ??
    realId(record.id)
      .replace(/^sha256:/, '')
      .slice(0, 12)
  );
}

/** Every name of an image, for where all of them must be seen (one image, several tags). */
export function imageNames(record: ImageRecord): string {
  return record.names.length > 0 ? record.names.join(', ') : imageLabel(record);
}

export interface ImageSharing {
  /** Bytes in layers no other image has. */
  uniqueBytes: number;
  /** Bytes in layers another image also has (stored once). */
  sharedBytes: number;
  /** Names of the images that share at least one layer with this one. */
  sharesWith: string[];
  /** Containers created from the image. */
  containers: number;
}

/** Which layers each image shares with others, by ChainID (same ChainID = same stored layer). */
export const imageSharing = memoizeLast(
  (
    images: ImagesState['records'],
    containers: ContainersState['records'],
  ): ReadonlyMap<string, ImageSharing> => {
    // A layer is shared only on one host: another host stores its own copy.
    const owners = new Map<string, Set<string>>();
    for (const image of images) {
      for (const layer of image.layers) {
        const stored = `${hostOf(image.id)} ${layer.chainId}`;
        let set = owners.get(stored);
        if (!set) owners.set(stored, (set = new Set()));
        set.add(image.id);
      }
    }
    const byId = new Map(images.map((image) => [image.id, image]));
    const usage = new Map<string, number>();
    for (const record of Object.values(containers))
      usage.set(record.Image, (usage.get(record.Image) ?? 0) + 1);
    const result = new Map<string, ImageSharing>();
    for (const image of images) {
      let uniqueBytes = 0;
      let sharedBytes = 0;
      const partners = new Set<string>();
      for (const layer of image.layers) {
        const set = owners.get(`${hostOf(image.id)} ${layer.chainId}`)!;
        if (set.size > 1) {
          sharedBytes += layer.size;
          for (const other of set) if (other !== image.id) partners.add(other);
        } else {
          uniqueBytes += layer.size;
        }
      }
      result.set(image.id, {
        uniqueBytes,
        sharedBytes,
        sharesWith: [...partners].map((id) => imageLabel(byId.get(id)!)).sort(),
        containers: usage.get(image.id) ?? 0,
      });
    }
    return result;
  },
);

/** Indexes of log lines matching the search (case-insensitive). */
export const logMatches = memoizeLast((lines: readonly LogLine[], text: string): number[] => {
  if (!text) return [];
  const needle = text.toLowerCase();
  const result: number[] = [];
  lines.forEach((line, index) => {
    if (line.text.toLowerCase().includes(needle)) result.push(index);
  });
  return result;
});

/** Whether a text field has the keyboard (a filter or search being typed, or a limit being edited). */
export function isTyping(state: TuiState): boolean {
  switch (state.ui.pane) {
    case 'containers':
      return state.containers.filter.editing;
    case 'images':
      return state.images.filter.editing;
    case 'layers':
      return state.layers.focus === 'tree' && state.layers.tree?.filter.editing === true;
    case 'limits':
      return state.limits.edit !== undefined && !state.limits.edit.applying;
    case 'logs':
      return state.logs.search.editing;
  }
}

/** Keymap scopes in force, most specific first. */
export function activeScopes(state: TuiState): Scope[] {
  const overlay = state.ui.overlay;
  if (overlay?.kind === 'help') return ['help'];
  if (overlay?.kind === 'messages') return ['messages'];
  if (overlay?.kind === 'confirm') return ['confirm'];
  if (overlay?.kind === 'form') return ['form'];
  if (overlay?.kind === 'onboarding') return ['onboarding', 'global'];
  if (overlay?.kind === 'pull') return ['pull'];
  if (overlay?.kind === 'build') return ['build'];
  if (overlay?.kind === 'inspect') return overlay.search.editing ? ['inspectSearch'] : ['inspect'];
  if (isTyping(state)) {
    if (state.ui.pane !== 'limits') return ['edit'];
    return state.limits.edit?.mode === 'stepping' ? ['step', 'value'] : ['value'];
  }
  const pane = state.ui.pane;
  if (pane === 'layers') return [state.layers.focus === 'tree' ? 'tree' : 'layers', 'list', 'global'];
  return [pane, 'list', 'global'];
}

/** The filter (or log search) of the pane on screen, with its word, if it has one in use. */
export function currentFilter(
  state: TuiState,
): { label: string; text: string; editing: boolean } | undefined {
  const pick = (label: string, filter: { text: string; editing: boolean } | undefined) =>
    filter && (filter.editing || filter.text)
      ? { label, text: filter.text, editing: filter.editing }
      : undefined;
  switch (state.ui.pane) {
    case 'containers':
      return pick('filter', state.containers.filter);
    case 'images':
      return pick('filter', state.images.filter);
    case 'layers':
      return state.layers.focus === 'tree' ? pick('filter', state.layers.tree?.filter) : undefined;
    case 'logs':
      return pick('search', state.logs.search);
    case 'limits':
      return undefined;
  }
}
