/**
 * `gantry image tree IMAGE` (and `--container`): every layer with its instruction, size and the
 * tree of what it added (+), modified (~) and removed (-), then the image's efficiency, its
 * wasted bytes and the paths that waste them.
 */
import { modifyReasonText } from '../../runtime/images/tree/reasons.js';
import { bool, num, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { humanSize } from '../format.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import type { FileNode, LayerTree, TreeLayer } from '../../runtime/images/tree/types.js';

export const spec: CommandSpec = {
  name: 'image tree',
  usage: 'image tree [OPTIONS] IMAGE',
  description:
    'Show what each layer added, modified and removed, with sizes, and what the image wastes (paths stored more than once or removed later)',
  minArgs: 1,
  maxArgs: 1,
  options: [
    { name: 'json', type: 'boolean', description: 'Print the whole tree as JSON' },
    {
      name: 'container',
      type: 'boolean',
      description: "IMAGE names a container: show its image's layers and its live writable layer on top",
    },
    {
      name: 'depth',
      type: 'number',
      placeholder: 'n',
      description: 'Levels of the change trees to show (default 4; 0 for all)',
    },
    { name: 'layer', type: 'number', placeholder: 'n', description: 'Show only layer n (1 = bottom)' },
    { name: 'top', type: 'number', placeholder: 'n', description: 'Wasteful paths to list (default 10)' },
  ],
};

const MARK: Record<FileNode['kind'], string> = { added: '+', modified: '~', removed: '-', unchanged: ' ' };

function label(node: FileNode): string {
  let text = node.name;
  if (node.type === 'directory') text += '/';
  if (node.type === 'symlink' && node.linkTarget !== undefined) text += ` -> ${node.linkTarget}`;
  if (node.type === 'hardlink' && node.linkTarget !== undefined) text += ` => ${node.linkTarget}`;
  if (node.opaque) text += ' (replaced)';
  // A modification that is not (only) new bytes says what it changed: a chmod shows as such.
  const reason = modifyReasonText(node);
  if (reason && reason !== 'content') text += ` (${reason})`;
  return text;
}

/** Counts and bytes of what is beneath a directory that is not shown. */
function collapsed(node: FileNode): string {
  const counts = { added: 0, modified: 0, removed: 0 };
  const visit = (current: FileNode): void => {
    for (const child of current.children ?? []) {
      if (child.kind !== 'unchanged') counts[child.kind] += 1;
      visit(child);
    }
  };
  visit(node);
  const parts = (['added', 'modified', 'removed'] as const)
    .filter((kind) => counts[kind] > 0)
    .map((kind) => `${MARK[kind]}${counts[kind]}`);
  return parts.length > 0 ? `  [${parts.join(' ')} beneath]` : '';
}

export function renderChanges(root: FileNode, depth: number): string[] {
  const lines: string[] = [];
  const visit = (node: FileNode, prefix: string, level: number): void => {
    const children = node.children ?? [];
    children.forEach((child, index) => {
      const last = index === children.length - 1;
      const size =
        child.type === 'directory' && child.kind !== 'removed'
          ? humanSize(child.size)
          : child.size > 0 || child.type === 'file'
            ? humanSize(child.size)
            : '';
      const cut = depth > 0 && level + 1 >= depth && (child.children?.length ?? 0) > 0;
      lines.push(
        `${prefix}${last ? '└── ' : '├── '}${MARK[child.kind]} ${label(child)}${size ? `  ${size}` : ''}${cut ? collapsed(child) : ''}`,
      );
      if (!cut) visit(child, `${prefix}${last ? '    ' : '│   '}`, level + 1);
    });
  };
  visit(root, '  ', 0);
  return lines;
}

function layerHeader(layer: TreeLayer, count: number): string {
  const id = layer.live ? 'live' : layer.digest.replace(/^sha256:/, '').slice(0, 12);
  const { summary } = layer;
  const changes = `+${summary.added} ~${summary.modified} -${summary.removed}`;
  return `LAYER ${layer.index + 1}/${count}  ${id}  ${humanSize(layer.size)}  (${changes})  ${layer.createdBy.replace(/\s+/g, ' ') || '(no history)'}`;
}

export function renderTree(tree: LayerTree, options: { depth: number; layer?: number; top: number }): string {
  const lines: string[] = [];
  const name = tree.subject.names[0] ?? tree.subject.id.replace(/^sha256:/, '').slice(0, 12);
  lines.push(
    `${tree.subject.kind === 'container' ? 'CONTAINER' : 'IMAGE'}  ${name} (${tree.subject.id.replace(/^sha256:/, '').slice(0, 12)})`,
  );
  lines.push(
    `SIZE  ${humanSize(tree.totalBytes)} in ${tree.layers.length} layer${tree.layers.length === 1 ? '' : 's'}   EFFICIENCY  ${(tree.efficiency * 100).toFixed(2)}%   WASTED  ${humanSize(tree.wastedBytes)} (${tree.userWastedPercent.toFixed(1)}% of the ${humanSize(tree.userBytes)} above the base layer)`,
  );
  for (const layer of tree.layers) {
    if (options.layer !== undefined && layer.index + 1 !== options.layer) continue;
    lines.push('', layerHeader(layer, tree.layers.length));
    if (layer.changes) lines.push(...renderChanges(layer.changes, options.depth));
  }
  if (options.layer === undefined && tree.inefficiencies.length > 0) {
    lines.push('', 'WASTED BY        COPIES  LAYERS   PATH');
    for (const item of tree.inefficiencies.slice(0, options.top)) {
      lines.push(
        `${humanSize(item.wastedBytes).padEnd(16)} ${String(item.count).padEnd(7)} ${item.layers
          .map((index) => index + 1)
          .join(',')
          .padEnd(8)} ${item.path}`,
      );
    }
    if (tree.inefficiencies.length > options.top)
      lines.push(`... and ${tree.inefficiencies.length - options.top} more (--top, or --json for all)`);
  }
  return `${lines.join('\n')}\n`;
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const depth = num(parsed.options, 'depth') ?? 4;
  const layer = num(parsed.options, 'layer');
  const top = num(parsed.options, 'top') ?? 10;
  if (!Number.isInteger(depth) || depth < 0)
    throw new InvalidArgumentError(`invalid --depth ${depth}: give 0 (all) or a positive number`);
  if (!Number.isInteger(top) || top < 0)
    throw new InvalidArgumentError(`invalid --top ${top}: give a number of paths`);
  let tree: LayerTree;
  if (context.host !== undefined) {
    // The layers are the remote host's: its service reads them and sends the tree.
    const remote = await context.hostEngine();
    tree = await remote.images.tree(parsed.args[0]!, { container: bool(parsed.options, 'container') });
  } else if (bool(parsed.options, 'container')) {
    const engine = await context.engine();
    const { containerLayerTree } = await import('../../runtime/images/tree/container-tree.js');
    tree = await containerLayerTree(engine, parsed.args[0]!);
  } else {
    const engine = await context.engine();
    const { layerTree } = await import('../../runtime/images/tree/layer-tree.js');
    tree = await layerTree(engine.images, await engine.images.resolve(parsed.args[0]!));
  }
  if (layer !== undefined && (!Number.isInteger(layer) || layer < 1 || layer > tree.layers.length)) {
    throw new InvalidArgumentError(
      `invalid --layer ${layer}: the image has layers 1 to ${tree.layers.length}`,
    );
  }
  if (bool(parsed.options, 'json')) {
    write(context.stdout, JSON.stringify(tree, null, 2));
    return 0;
  }
  context.stdout.write(renderTree(tree, { depth, top, ...(layer !== undefined ? { layer } : {}) }));
  return 0;
}
