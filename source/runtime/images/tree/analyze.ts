/**
 * Walks unpacked layer directories bottom up, keeping one merged tree of what is visible so far
 * (overlayfs rules: whiteouts, opaque directories, a non-directory hiding a directory), and for
 * each layer builds the tree of its own changes while recording every copy and removal of every
 * path in the waste ledger. Layers are read where they are unpacked: no tar is read again and no
 * file content is touched, only directory listings and lstat, so the cost is one pass over the
 * metadata of each layer and memory is one small node per visible path.
 *
 * A live container's writable layer may be rewritten while it is walked, so every layer is walked
 * by descriptors (DirectoryHandle): a directory swapped for a symlink to a host directory after
 * it was listed is skipped, never entered.
 */
import { DirectoryHandle } from '../../in-root.js';
import { byteOrder, isOpaqueDirectory, isWhiteout } from '../diff/stack-view.js';
import { draftRoot, finishDraft, type Draft } from './draft.js';
import { WasteLedger, type EfficiencyResult } from './efficiency.js';
import type fs from 'node:fs';
import type { ChangeKind, FileNode, FileType, LayerChangeSummary, ModifyReason } from './types.js';

export interface LayerInput {
  /** The unpacked layer (overlay lowerdir format) or a container's upperdir. */
  directory: string;
  /** Mount destinations whose empty stubs are runtime artefacts, not content (live layers). */
  mountpoints?: ReadonlySet<string>;
}

export interface AnalyzedLayer {
  /** Bytes of file content the walk found (each hard-linked inode once). */
  size: number;
  summary: LayerChangeSummary;
  changes?: FileNode;
}

export interface Analysis extends EfficiencyResult {
  layers: AnalyzedLayer[];
}

/** Bytes under a node of the merged tree. */
function subtreeBytes(node: MergedNode): number {
  let total = node.size;
  for (const child of node.children?.values() ?? []) total += subtreeBytes(child);
  return total;
}

interface MergedNode {
  type: FileType;
  /** Bytes counted for this path (0 for directories, symlinks and further hard links). */
  size: number;
  /** The visible copy's metadata, to say what a later copy changed. */
  meta: Metadata;
  children?: Map<string, MergedNode>;
}

interface Metadata {
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of the file (as stat says, hard links included) and its modification time. */
  bytes: number;
  mtimeMs: number;
}

function metadataOf(stats: fs.Stats): Metadata {
  return {
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    gid: stats.gid,
    bytes: stats.isFile() ? stats.size : 0,
    mtimeMs: Math.trunc(stats.mtimeMs),
  };
}

/** What a copy changed against the one below it (a directory's bytes and times are its listing's). */
function reasonsFor(type: FileType, meta: Metadata, below: MergedNode): ModifyReason[] {
  const reasons: ModifyReason[] = [];
  const sameKind = (below.type === 'directory') === (type === 'directory');
  if (!sameKind || (below.type === 'symlink') !== (type === 'symlink')) reasons.push('type');
  else if (type !== 'directory' && (meta.bytes !== below.meta.bytes || meta.mtimeMs !== below.meta.mtimeMs))
    reasons.push('content');
  if (meta.mode !== below.meta.mode) reasons.push('mode');
  if (meta.uid !== below.meta.uid || meta.gid !== below.meta.gid) reasons.push('owner');
  // A file stored again with the same size, time and metadata: its bytes are the change
  // (whether they differ would take reading both copies).
  if (reasons.length === 0 && type !== 'directory') reasons.push('content');
  return reasons;
}

function metadataFields(meta: Metadata, below: MergedNode | undefined, reasons: ModifyReason[] | undefined) {
  return {
    mode: meta.mode,
    uid: meta.uid,
    gid: meta.gid,
    ...(reasons && below
      ? { reasons, previous: { mode: below.meta.mode, uid: below.meta.uid, gid: below.meta.gid } }
      : {}),
  };
}

const ROOT_META: Metadata = { mode: 0o755, uid: 0, gid: 0, bytes: 0, mtimeMs: 0 };

/** Yield to the event loop every so many entries, so a TUI stays responsive during a walk. */
const YIELD_EVERY = 4096;

function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

function isMountpointParent(input: LayerInput, directory: string): boolean {
  for (const mountpoint of input.mountpoints ?? []) if (mountpoint.startsWith(`${directory}/`)) return true;
  return false;
}

function emptySummary(): LayerChangeSummary {
  return { added: 0, modified: 0, removed: 0, addedBytes: 0, modifiedBytes: 0, removedBytes: 0 };
}

class StackAnalyzer {
  private readonly root: MergedNode = { type: 'directory', size: 0, meta: ROOT_META, children: new Map() };
  private readonly ledger = new WasteLedger();
  private visited = 0;

  constructor(private readonly withChanges: boolean) {}

  /** Total bytes visible at and beneath `node`. */
  private bytesOf(node: MergedNode): number {
    let total = node.size;
    if (node.children) for (const child of node.children.values()) total += this.bytesOf(child);
    return total;
  }

  /** Records a 0-byte copy (a removal) of every path at and beneath `node`; returns its bytes. */
  private removeAll(node: MergedNode, imagePath: string, layer: number): number {
    if (node.type !== 'directory') {
      this.ledger.record(imagePath, layer, 0);
      return node.size;
    }
    let total = 0;
    for (const [name, child] of node.children ?? [])
      total += this.removeAll(child, childPath(imagePath, name), layer);
    return total;
  }

  /**
   * What a directory replaced by a file (or link) held, as removed entries under the `~` entry of
   * the file: the change tree shows what went with it, as it does beneath an opaque directory.
   */
  private removedDrafts(node: MergedNode, imagePath: string): Map<string, Draft> {
    const drafts = new Map<string, Draft>();
    for (const [name, child] of node.children ?? []) {
      const path = childPath(imagePath, name);
      const draft: Draft = { name, path, type: child.type, kind: 'removed', size: subtreeBytes(child) };
      if (child.children && child.children.size > 0) draft.children = this.removedDrafts(child, path);
      drafts.set(name, draft);
    }
    return drafts;
  }

  private async pause(): Promise<void> {
    this.visited += 1;
    if (this.visited % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
  }

  async addLayer(input: LayerInput, layer: number): Promise<AnalyzedLayer> {
    const summary = emptySummary();
    const state = { size: 0, links: new Map<string, string>() };
    const changes = draftRoot();
    const top = DirectoryHandle.open(input.directory);
    try {
      await this.visit(input, layer, top, '/', false, this.root, changes, summary, state);
    } finally {
      top.close();
    }
    const result: AnalyzedLayer = { size: state.size, summary };
    if (this.withChanges) result.changes = finishDraft(changes);
    return result;
  }

  private addDraft(parent: Draft, draft: Draft): void {
    if (!this.withChanges) return;
    parent.children ??= new Map();
    parent.children.set(draft.name, draft);
  }

  private removed(
    parentDraft: Draft,
    name: string,
    imagePath: string,
    node: MergedNode,
    layer: number,
    summary: LayerChangeSummary,
  ): void {
    const bytes = this.removeAll(node, imagePath, layer);
    summary.removed += 1;
    summary.removedBytes += bytes;
    this.addDraft(parentDraft, { name, path: imagePath, type: node.type, kind: 'removed', size: bytes });
  }

  private async visit(
    input: LayerInput,
    layer: number,
    directory: DirectoryHandle,
    imageDirectory: string,
    opaque: boolean,
    merged: MergedNode,
    draft: Draft,
    summary: LayerChangeSummary,
    state: { size: number; links: Map<string, string> },
  ): Promise<void> {
    const names = directory.names().sort(byteOrder);
    const children = (merged.children ??= new Map());
    if (opaque) {
      const present = new Set(names);
      for (const [name, node] of [...children]) {
        if (present.has(name)) continue;
        this.removed(draft, name, childPath(imageDirectory, name), node, layer, summary);
        children.delete(name);
      }
    }
    for (const name of names) {
      await this.pause();
      const imagePath = childPath(imageDirectory, name);
      // Gone since the listing: a running container changes its layer while it is walked.
      const stats = directory.lstat(name);
      if (!stats) continue;
      const existing = children.get(name);
      if (isWhiteout(stats)) {
        if (!existing) continue;
        this.removed(draft, name, imagePath, existing, layer, summary);
        children.delete(name);
        continue;
      }
      if (stats.isDirectory()) {
        // Opened before it is counted: swapped for a symlink since the lstat, it is skipped.
        const child = directory.openDirectory(name);
        if (!child) continue;
        try {
          await this.visitDirectory(input, layer, directory, child, name, imagePath, opaque, existing, {
            children,
            draft,
            summary,
            state,
          });
        } finally {
          child.close();
        }
        continue;
      }
      if (!existing && input.mountpoints?.has(imagePath) && stats.isFile() && stats.size === 0) continue;
      let type: FileType;
      let bytes = 0;
      let linkTarget: string | undefined;
      if (stats.isFile()) {
        const inode = `${stats.dev}:${stats.ino}`;
        const first = stats.nlink > 1 ? state.links.get(inode) : undefined;
        if (first !== undefined) {
          type = 'hardlink';
          linkTarget = first;
        } else {
          type = 'file';
          bytes = stats.size;
          if (stats.nlink > 1) state.links.set(inode, imagePath);
        }
      } else if (stats.isSymbolicLink()) {
        type = 'symlink';
        linkTarget = directory.readlink(name) ?? '';
      } else {
        type = 'other';
      }
      const removedChildren =
        existing?.type === 'directory' && this.withChanges
          ? this.removedDrafts(existing, imagePath)
          : undefined;
      if (existing?.type === 'directory') this.removeAll(existing, imagePath, layer);
      const kind: ChangeKind = existing ? 'modified' : 'added';
      const meta = metadataOf(stats);
      const reasons = existing ? reasonsFor(type, meta, existing) : undefined;
      children.set(name, { type, size: bytes, meta });
      this.ledger.record(imagePath, layer, bytes);
      state.size += bytes;
      if (kind === 'added') {
        summary.added += 1;
        summary.addedBytes += bytes;
      } else {
        summary.modified += 1;
        summary.modifiedBytes += bytes;
      }
      this.addDraft(draft, {
        name,
        path: imagePath,
        type,
        kind,
        size: bytes,
        ...(linkTarget !== undefined ? { linkTarget } : {}),
        ...metadataFields(meta, existing, reasons),
        ...(removedChildren && removedChildren.size > 0 ? { children: removedChildren } : {}),
      });
    }
  }

  /** A directory of a layer: merged into the tree, its contents visited. */
  private async visitDirectory(
    input: LayerInput,
    layer: number,
    parent: DirectoryHandle,
    child: DirectoryHandle,
    name: string,
    imagePath: string,
    opaque: boolean,
    existing: MergedNode | undefined,
    at: {
      children: Map<string, MergedNode>;
      draft: Draft;
      summary: LayerChangeSummary;
      state: { size: number; links: Map<string, string> };
    },
  ): Promise<void> {
    const { children, draft, summary, state } = at;
    if (existing === undefined && input.mountpoints?.has(imagePath) && child.names().length === 0) return;
    let node: MergedNode;
    let kind: ChangeKind;
    const opaqueHere = isOpaqueDirectory(parent.entry(name));
    const stats = parent.lstat(name);
    const meta = stats ? metadataOf(stats) : (existing?.meta ?? ROOT_META);
    let reasons: ModifyReason[] | undefined;
    // The copy below as it was, before this layer's metadata replaces it.
    const below = existing ? { ...existing } : undefined;
    if (existing?.type === 'directory') {
      node = existing;
      // A directory copied up only to hold a change beneath it has the same mode and owner; a
      // chmod or chown of the directory itself is a change of its own.
      reasons = reasonsFor('directory', meta, existing);
      kind = opaqueHere || reasons.length > 0 ? 'modified' : 'unchanged';
      if (kind === 'unchanged') reasons = undefined;
      node.meta = meta;
    } else {
      if (existing) this.removeAll(existing, imagePath, layer);
      node = { type: 'directory', size: 0, meta, children: new Map() };
      children.set(name, node);
      kind = existing ? 'modified' : 'added';
      if (existing) reasons = reasonsFor('directory', meta, existing);
    }
    if (kind === 'added') summary.added += 1;
    else if (kind === 'modified') summary.modified += 1;
    const childDraft: Draft = {
      name,
      path: imagePath,
      type: 'directory',
      kind,
      size: 0,
      children: new Map(),
      ...metadataFields(meta, below, reasons),
    };
    if (opaqueHere && existing?.type === 'directory') childDraft.opaque = true;
    const sizeBefore = state.size;
    const changesBefore = summary.added + summary.modified + summary.removed;
    // Beneath an opaque directory nothing of the lower layers shows, however deep.
    const hidesBelow = opaqueHere || opaque;
    await this.visit(input, layer, child, imagePath, hidesBelow, node, childDraft, summary, state);
    const empty =
      summary.added + summary.modified + summary.removed === changesBefore && state.size === sizeBefore;
    if (kind === 'added' && empty && isMountpointParent(input, imagePath)) {
      // Made by the runtime only to hold mount points (/etc for /etc/hosts): not content.
      summary.added -= 1;
      children.delete(name);
      return;
    }
    if (kind !== 'unchanged' || (childDraft.children?.size ?? 0) > 0) this.addDraft(draft, childDraft);
  }

  result(): EfficiencyResult {
    return this.ledger.result();
  }

  /** Bytes visible in the merged stack so far. */
  visibleBytes(): number {
    return this.bytesOf(this.root);
  }
}

/** Analyses a stack of layer directories, bottom first. */
export async function analyzeLayers(
  layers: readonly LayerInput[],
  options: { changes?: boolean } = {},
): Promise<Analysis> {
  const analyzer = new StackAnalyzer(options.changes ?? true);
  const analyzed: AnalyzedLayer[] = [];
  for (const [index, layer] of layers.entries()) analyzed.push(await analyzer.addLayer(layer, index));
  return { ...analyzer.result(), layers: analyzed };
}
