/**
 * Pure logic over the flat contents of overlay layers: stacking them (whiteouts and opaque
 * directories), building a layer's change tree, and dive's efficiency score. The file-system walk
 * that produces `LayerEntries` is in fs-layer-tree-source.ts, so this is tested on plain data.
 */
import type { FileChange, FileKind, FileNode, Inefficiency, LayerAnalysis } from './layer-tree-source.js';

export interface LayerEntry {
  kind: FileKind;
  size: number;
  /** An overlay whiteout: the path is removed from the layers below. */
  whiteout?: boolean;
  /** A directory that hides everything below it in lower layers. */
  opaque?: boolean;
  linkTarget?: string;
}

/** Path ("/etc/passwd") -> entry, for one layer. */
export type LayerEntries = Map<string, LayerEntry>;

export interface MergedEntry {
  kind: FileKind;
  size: number;
  linkTarget?: string;
}

function isBelow(candidate: string, directory: string): boolean {
  return directory === '/' ? candidate !== '/' : candidate.startsWith(`${directory}/`);
}

/** Applies one layer on top of a merged view, in place (overlayfs semantics). */
export function applyLayer(merged: Map<string, MergedEntry>, layer: LayerEntries): void {
  const hidden = [...layer].filter(([, entry]) => entry.whiteout || entry.opaque).map(([path]) => path);
  if (hidden.length > 0) {
    for (const path of [...merged.keys()]) {
      for (const top of hidden) {
        const entry = layer.get(top)!;
        if (
          (entry.whiteout && (path === top || isBelow(path, top))) ||
          (entry.opaque && isBelow(path, top))
        ) {
          merged.delete(path);
          break;
        }
      }
    }
  }
  for (const [path, entry] of layer) {
    if (entry.whiteout) continue;
    merged.set(path, {
      kind: entry.kind,
      size: entry.kind === 'directory' ? 0 : entry.size,
      ...(entry.linkTarget ? { linkTarget: entry.linkTarget } : {}),
    });
  }
}

export function mergeLayers(layers: readonly LayerEntries[]): Map<string, MergedEntry> {
  const merged = new Map<string, MergedEntry>();
  for (const layer of layers) applyLayer(merged, layer);
  return merged;
}

/** Bytes under (and at) `path` in a merged view: what a whiteout of it removes. */
export function sizeAt(merged: Map<string, MergedEntry>, path: string): number {
  let total = 0;
  for (const [candidate, entry] of merged) {
    if (candidate === path || isBelow(candidate, path)) total += entry.kind === 'directory' ? 0 : entry.size;
  }
  return total;
}

interface Draft {
  name: string;
  path: string;
  kind: FileKind;
  size: number;
  change: FileChange;
  linkTarget?: string;
  opaque?: boolean;
  children: Map<string, Draft>;
}

function draftRoot(): Draft {
  return { name: '', path: '/', kind: 'directory', size: 0, change: 'unchanged', children: new Map() };
}

function ensureParents(root: Draft, path: string, change: (directory: string) => FileChange): Draft {
  const parts = path.split('/').filter(Boolean);
  let node = root;
  for (let index = 0; index < parts.length - 1; index += 1) {
    const name = parts[index]!;
    let child = node.children.get(name);
    if (!child) {
      const childPath = `/${parts.slice(0, index + 1).join('/')}`;
      child = {
        name,
        path: childPath,
        kind: 'directory',
        size: 0,
        change: change(childPath),
        children: new Map(),
      };
      node.children.set(name, child);
    }
    node = child;
  }
  return node;
}

function place(
  root: Draft,
  path: string,
  fields: Omit<Draft, 'name' | 'path' | 'children'>,
  parentChange: (directory: string) => FileChange,
): void {
  if (path === '/') return;
  const parent = ensureParents(root, path, parentChange);
  const name = path.slice(path.lastIndexOf('/') + 1);
  const existing = parent.children.get(name);
  if (existing) {
    Object.assign(existing, fields);
    return;
  }
  parent.children.set(name, { name, path, ...fields, children: new Map() });
}

function finish(draft: Draft): FileNode {
  const node: FileNode = {
    name: draft.name,
    path: draft.path,
    kind: draft.kind,
    size: draft.size,
    change: draft.change,
  };
  if (draft.linkTarget !== undefined) node.linkTarget = draft.linkTarget;
  if (draft.opaque) node.opaque = true;
  if (draft.kind === 'directory') {
    const children = [...draft.children.values()]
      .map(finish)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    node.children = children;
    // A removed directory keeps the size it removed; others add up what they hold.
    if (draft.change !== 'removed') node.size = children.reduce((sum, child) => sum + child.size, 0);
  }
  return node;
}

/**
 * The tree of one layer's own changes: each path it holds is added (new) or modified (it
 * replaces a lower one); each whiteout is a removal sized by what it hides. Directories that
 * only lead to changes are unchanged.
 */
export function changeTree(lower: Map<string, MergedEntry>, layer: LayerEntries): FileNode {
  const root = draftRoot();
  const parentChange = (directory: string): FileChange => (lower.has(directory) ? 'unchanged' : 'added');
  for (const [path, entry] of layer) {
    const below = lower.get(path);
    if (entry.whiteout) {
      place(
        root,
        path,
        { kind: below?.kind ?? 'file', size: sizeAt(lower, path), change: 'removed' },
        parentChange,
      );
      continue;
    }
    let change: FileChange;
    if (entry.kind === 'directory') change = !below ? 'added' : entry.opaque ? 'modified' : 'unchanged';
    else change = below ? 'modified' : 'added';
    place(
      root,
      path,
      {
        kind: entry.kind,
        size: entry.kind === 'directory' ? 0 : entry.size,
        change,
        ...(entry.linkTarget !== undefined ? { linkTarget: entry.linkTarget } : {}),
        ...(entry.opaque ? { opaque: true } : {}),
      },
      parentChange,
    );
  }
  return finish(root);
}

/**
 * The whole filesystem after the layer, with the layer's changes marked and its removals shown
 * where the removed paths were (dive's aggregated view).
 */
export function aggregatedTree(lower: Map<string, MergedEntry>, layer: LayerEntries): FileNode {
  const merged = new Map(lower);
  applyLayer(merged, layer);
  const root = draftRoot();
  const parentChange = (): FileChange => 'unchanged';
  for (const [path, entry] of merged) {
    const own = layer.get(path);
    let change: FileChange = 'unchanged';
    if (own && !own.whiteout) {
      const below = lower.get(path);
      if (entry.kind === 'directory') change = !below ? 'added' : own.opaque ? 'modified' : 'unchanged';
      else change = below ? 'modified' : 'added';
    }
    place(
      root,
      path,
      {
        kind: entry.kind,
        size: entry.size,
        change,
        ...(entry.linkTarget !== undefined ? { linkTarget: entry.linkTarget } : {}),
      },
      parentChange,
    );
  }
  for (const [path, entry] of layer) {
    if (!entry.whiteout || !lower.has(path)) continue;
    place(
      root,
      path,
      { kind: lower.get(path)!.kind, size: sizeAt(lower, path), change: 'removed' },
      parentChange,
    );
  }
  return finish(root);
}

/**
 * dive's measure: every path that is not a directory is counted in each layer that holds it
 * (a whiteout counts with the bytes it hides). Efficiency is the bytes of the smallest copy of
 * each path over the bytes of all copies; waste is every copy of a path that appears more than
 * once, the surviving one included, as dive counts it (so the figures match what users compare).
 */
export function analyzeLayers(layers: readonly LayerEntries[]): LayerAnalysis {
  const seen = new Map<string, { count: number; cumulative: number; minimum: number }>();
  const merged = new Map<string, MergedEntry>();
  for (const layer of layers) {
    for (const [path, entry] of layer) {
      if (entry.kind === 'directory' && !entry.whiteout) continue;
      const size = entry.whiteout ? sizeAt(merged, path) : entry.size;
      const record = seen.get(path);
      if (record) {
        record.count += 1;
        record.cumulative += size;
        record.minimum = Math.min(record.minimum, size);
      } else {
        seen.set(path, { count: 1, cumulative: size, minimum: size });
      }
    }
    applyLayer(merged, layer);
  }
  let minimumTotal = 0;
  let cumulativeTotal = 0;
  let wastedBytes = 0;
  const inefficiencies: Inefficiency[] = [];
  for (const [path, record] of seen) {
    minimumTotal += record.minimum;
    cumulativeTotal += record.cumulative;
    if (record.count > 1) {
      wastedBytes += record.cumulative;
      inefficiencies.push({ path, count: record.count, cumulativeSize: record.cumulative });
    }
  }
  inefficiencies.sort((a, b) => b.cumulativeSize - a.cumulativeSize || a.path.localeCompare(b.path));
  return {
    efficiency: cumulativeTotal === 0 ? 1 : minimumTotal / cumulativeTotal,
    wastedBytes,
    inefficiencies,
  };
}
