/**
 * Turns a file tree into the rows the tree view shows: depth-first, collapsed directories
 * closed, and with a filter only matching paths and the directories that lead to them.
 */
import type { FileNode } from './layer-tree-source.js';

export interface TreeRow {
  node: FileNode;
  depth: number;
  /** Whether this is the last child of its parent (for the └ / ├ guides). */
  last: boolean;
  /** For each ancestor level, whether a guide line continues below it. */
  guides: boolean[];
  expanded: boolean;
}

export interface TreeRowOptions {
  /** Paths of directories the user collapsed (or, with `collapsedByDefault`, expanded). */
  toggled: ReadonlySet<string>;
  /** Directories deeper than this start collapsed (aggregated trees are large). */
  openDepth?: number;
  /** Case-insensitive substring of the path; matching nodes and their ancestors show, expanded. */
  filter?: string;
}

function matches(node: FileNode, needle: string, cache: Map<FileNode, boolean>): boolean {
  const known = cache.get(node);
  if (known !== undefined) return known;
  let result = node.path.toLowerCase().includes(needle);
  if (!result && node.children) result = node.children.some((child) => matches(child, needle, cache));
  cache.set(node, result);
  return result;
}

export function isExpanded(node: FileNode, depth: number, options: TreeRowOptions): boolean {
  if (node.type !== 'directory') return false;
  if (options.filter) return true;
  const openByDefault = depth < (options.openDepth ?? Number.POSITIVE_INFINITY);
  return options.toggled.has(node.path) ? !openByDefault : openByDefault;
}

export function treeRows(root: FileNode, options: TreeRowOptions): TreeRow[] {
  const rows: TreeRow[] = [];
  const needle = options.filter?.toLowerCase() ?? '';
  const cache = new Map<FileNode, boolean>();
  const visit = (node: FileNode, depth: number, guides: boolean[]): void => {
    const children = (node.children ?? []).filter((child) => !needle || matches(child, needle, cache));
    children.forEach((child, index) => {
      const last = index === children.length - 1;
      const expanded = isExpanded(child, depth, options);
      rows.push({ node: child, depth, last, guides, expanded });
      if (expanded && child.children && child.children.length > 0)
        visit(child, depth + 1, [...guides, !last]);
    });
  };
  visit(root, 0, []);
  return rows;
}

/** Counts of what a tree changes, for the pane's summary line. */
export function changeCounts(root: FileNode): { added: number; modified: number; removed: number } {
  const counts = { added: 0, modified: 0, removed: 0 };
  const visit = (node: FileNode): void => {
    if (node.type !== 'directory' || node.kind === 'removed') {
      if (node.kind === 'added') counts.added += 1;
      else if (node.kind === 'modified') counts.modified += 1;
      else if (node.kind === 'removed') counts.removed += 1;
    }
    if (node.kind !== 'removed') node.children?.forEach(visit);
  };
  visit(root);
  return counts;
}
