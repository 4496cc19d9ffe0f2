/**
 * Change trees (runtime/images/tree FileNode) written as data: paths are filled in from the
 * nesting and a directory's size is what its children hold, as the layer walk computes it.
 */
import type { ChangeKind, FileNode, FileType } from '../../source/runtime/images/tree/types.js';

/** A node before it knows where it stands. */
export type NodeSpec = (parent: string) => FileNode;

type Extra = Partial<
  Pick<FileNode, 'linkTarget' | 'opaque' | 'mode' | 'uid' | 'gid' | 'reasons' | 'previous'>
>;

function join(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

export function file(
  name: string,
  kind: ChangeKind,
  size: number,
  extra: Extra & { type?: FileType } = {},
): NodeSpec {
  const { type = 'file', ...rest } = extra;
  return (parent) => ({ name, path: join(parent, name), type, kind, size, ...rest });
}

export function directory(
  name: string,
  kind: ChangeKind,
  children: NodeSpec[] = [],
  extra: Extra = {},
): NodeSpec {
  return (parent) => {
    const path = join(parent, name);
    const nodes = children.map((child) => child(path));
    const size = nodes.reduce((sum, child) => sum + (child.kind === 'removed' ? 0 : child.size), 0);
    return { name, path, type: 'directory', kind, size, ...extra, children: nodes };
  };
}

/** A removed directory: the bytes it took away, no children. */
export function removedDirectory(name: string, size: number): NodeSpec {
  return file(name, 'removed', size, { type: 'directory' });
}

/** The root of a layer's change tree. */
export function fileTree(...children: NodeSpec[]): FileNode {
  return directory('', 'unchanged', children)('/');
}

/** The node at `wanted`, searching depth first. */
export function findNode(root: FileNode | undefined, wanted: string): FileNode | undefined {
  if (!root) return undefined;
  if (root.path === wanted) return root;
  for (const child of root.children ?? []) {
    const found = findNode(child, wanted);
    if (found) return found;
  }
  return undefined;
}
