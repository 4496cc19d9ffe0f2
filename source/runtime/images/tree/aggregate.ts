/**
 * dive's aggregated view of a layer: the whole filesystem as it stands after the layer, with the
 * layer's own changes marked and the paths it removed shown where they were. Built from the
 * change trees of the layers up to it (`layerTree` with changes), so no layer is read again.
 */
import { draftRoot, finishDraft, type Draft } from './draft.js';
import type { FileNode } from './types.js';

function copy(node: FileNode, marked: boolean): Draft {
  const draft: Draft = {
    name: node.name,
    path: node.path,
    type: node.type,
    kind: marked ? node.kind : 'unchanged',
    size: node.size,
  };
  if (node.linkTarget !== undefined) draft.linkTarget = node.linkTarget;
  if (marked && node.opaque) draft.opaque = true;
  if (node.mode !== undefined) draft.mode = node.mode;
  if (node.uid !== undefined) draft.uid = node.uid;
  if (node.gid !== undefined) draft.gid = node.gid;
  if (marked && node.reasons) draft.reasons = node.reasons;
  if (marked && node.previous) draft.previous = node.previous;
  if (node.type === 'directory' && node.kind !== 'removed') draft.children = new Map();
  return draft;
}

/**
 * Applies one layer's change tree to the merged `directory`. Lower layers (`marked` false) leave
 * what they made, unmarked, and take away what they removed; the marked layer keeps its removals
 * in place and its change kinds.
 */
function apply(directory: Draft, changes: FileNode, marked: boolean): void {
  const children = (directory.children ??= new Map());
  for (const change of changes.children ?? []) {
    if (change.kind === 'removed' && !marked) {
      children.delete(change.name);
      continue;
    }
    const existing = children.get(change.name);
    if (change.type !== 'directory' || change.kind === 'removed') {
      children.set(change.name, copy(change, marked));
      continue;
    }
    // A directory over a directory merges with it (an opaque one lists what it hides as
    // removed children); over anything else it replaces it.
    let target = existing?.type === 'directory' && existing.kind !== 'removed' ? existing : undefined;
    if (!target) {
      target = copy(change, marked);
      children.set(change.name, target);
    } else {
      // The directory's own metadata is the newest layer's.
      if (change.mode !== undefined) target.mode = change.mode;
      if (change.uid !== undefined) target.uid = change.uid;
      if (change.gid !== undefined) target.gid = change.gid;
      if (marked) {
        target.kind = change.kind;
        if (change.opaque) target.opaque = true;
        if (change.reasons) target.reasons = change.reasons;
        if (change.previous) target.previous = change.previous;
      }
    }
    apply(target, change, marked);
  }
}

/**
 * The aggregated tree of the last layer of `changeTrees` (bottom first, each a layer's
 * `changes`): every visible path, `unchanged` unless that layer added, modified or removed it.
 */
export function aggregateTree(changeTrees: readonly FileNode[]): FileNode {
  const root = draftRoot();
  changeTrees.forEach((changes, index) => apply(root, changes, index === changeTrees.length - 1));
  return finishDraft(root);
}
