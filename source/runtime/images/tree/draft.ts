/**
 * A change tree while it is being built: directories hold their children by name, so a walk (or
 * a merge of several layers) can find and replace entries; `finishDraft` sorts them and adds up
 * directory sizes once the tree is complete.
 */
import { byteOrder } from '../diff/stack-view.js';
import type { FileNode } from './types.js';

export interface Draft extends Omit<FileNode, 'children'> {
  children?: Map<string, Draft>;
}

/** The root of a tree: "/", unchanged, with nothing in it yet. */
export function draftRoot(): Draft {
  return { name: '', path: '/', type: 'directory', kind: 'unchanged', size: 0, children: new Map() };
}

/** A directory's size is what its children hold; removed children hold nothing any more. */
export function finishDraft(draft: Draft): FileNode {
  const node: FileNode = {
    name: draft.name,
    path: draft.path,
    type: draft.type,
    kind: draft.kind,
    size: draft.size,
  };
  if (draft.linkTarget !== undefined) node.linkTarget = draft.linkTarget;
  if (draft.opaque) node.opaque = true;
  if (draft.mode !== undefined) node.mode = draft.mode;
  if (draft.uid !== undefined) node.uid = draft.uid;
  if (draft.gid !== undefined) node.gid = draft.gid;
  if (draft.reasons) node.reasons = draft.reasons;
  if (draft.previous) node.previous = draft.previous;
  if (draft.children) {
    const children = [...draft.children.values()].sort((a, b) => byteOrder(a.name, b.name)).map(finishDraft);
    node.children = children;
    // A removed directory keeps the bytes it took away; a file that replaced a directory (its
    // removed children beneath it) keeps its own size.
    if (draft.type === 'directory' && draft.kind !== 'removed')
      node.size = children.reduce((sum, child) => sum + (child.kind === 'removed' ? 0 : child.size), 0);
  }
  return node;
}
