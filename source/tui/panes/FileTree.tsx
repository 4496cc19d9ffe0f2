/**
 * The file tree of one layer: each entry marked A (added), M (modified) or D (removed) with its
 * size, directories foldable; rows are windowed to the pane and memoised.
 */
import { Box, Text } from 'ink';
import React, { memo } from 'react';
import { useTui } from '../context.js';
import { formatSize, truncate } from '../format.js';
import { modifyReasonText } from '../../runtime/images/tree/reasons.js';
import type { ChangeKind, FileNode } from '../layers/layer-tree-source.js';
import type { TreeRow } from '../layers/tree-rows.js';
import type { Theme } from '../theme.js';

const MARKS: Record<ChangeKind, string> = { added: 'A', modified: 'M', removed: 'D', unchanged: ' ' };

function changeColor(theme: Theme, change: ChangeKind): string | undefined {
  if (change === 'added') return theme.added;
  if (change === 'modified') return theme.modified;
  if (change === 'removed') return theme.removed;
  return undefined;
}

/** "│  ├─ " style guides for a row. */
export function treePrefix(row: TreeRow): string {
  return row.guides.map((continues) => (continues ? '│  ' : '   ')).join('') + (row.last ? '└─ ' : '├─ ');
}

/** Permission bits as ls shows them: "drwxr-xr-x", "-rwsr-xr-x", "lrwxrwxrwx". */
export function modeString(type: FileNode['type'], mode: number | undefined): string {
  if (mode === undefined) return '';
  const kind = type === 'directory' ? 'd' : type === 'symlink' ? 'l' : type === 'other' ? '?' : '-';
  const bits = (shift: number, special: number, letter: string) => {
    const read = mode & (4 << shift) ? 'r' : '-';
    const write = mode & (2 << shift) ? 'w' : '-';
    const execute = mode & (1 << shift);
    const extra = mode & special;
    const x = extra ? (execute ? letter : letter.toUpperCase()) : execute ? 'x' : '-';
    return `${read}${write}${x}`;
  };
  return `${kind}${bits(6, 0o4000, 's')}${bits(3, 0o2000, 's')}${bits(0, 0o1000, 't')}`;
}

/** Why a path is marked M: "mode 644→600", "owner 0:0→1000:1000", "content" (as the CLI says it). */
export function modifyReason(node: FileNode): string {
  return modifyReasonText(node, '→');
}

/** Which metadata columns fit: permission bits from 80 columns, the owner from 100. */
export function treeColumns(width: number): { mode: boolean; owner: boolean } {
  return { mode: width >= 80, owner: width >= 100 };
}

export function treeRowText(
  row: TreeRow,
  width: number,
): { mark: string; size: string; mode: string; owner: string; name: string; reason: string } {
  const node = row.node;
  const columns = treeColumns(width);
  const fold =
    node.type === 'directory' && (node.children?.length ?? 0) > 0 ? (row.expanded ? '▾ ' : '▸ ') : '';
  const suffix =
    node.type === 'directory'
      ? '/'
      : node.type === 'symlink' && node.linkTarget !== undefined
        ? ` → ${node.linkTarget}`
        : '';
  const reason = modifyReason(node);
  const mode = columns.mode ? modeString(node.type, node.mode).padEnd(10) : '';
  const owner = columns.owner
    ? (node.uid === undefined ? '' : `${node.uid}:${node.gid ?? node.uid}`).padEnd(11)
    : '';
  const used = 12 + (columns.mode ? 11 : 0) + (columns.owner ? 12 : 0) + (reason ? reason.length + 3 : 0);
  const name = `${treePrefix(row)}${fold}${node.name}${suffix}${node.opaque ? ' (replaces below)' : ''}`;
  return {
    mark: MARKS[node.kind],
    size: formatSize(node.size).padStart(7),
    mode,
    owner,
    name: truncate(name, Math.max(4, width - used)),
    reason: reason ? `  (${reason})` : '',
  };
}

/** The column titles over the tree rows, as wide as the rows' own columns. */
export function fileTreeHeader(width: number): string {
  const columns = treeColumns(width);
  return `   ${'SIZE'.padStart(7)}  ${columns.mode ? `${'MODE'.padEnd(10)} ` : ''}${columns.owner ? `${'UID:GID'.padEnd(11)} ` : ''}PATH`;
}

interface FileRowProps {
  row: TreeRow;
  selected: boolean;
  width: number;
}

const FileRow = memo(function FileRow({ row, selected, width }: FileRowProps) {
  const { theme } = useTui();
  const text = treeRowText(row, width);
  const color = changeColor(theme, row.node.kind);
  return (
    <Text wrap="truncate-end" inverse={selected}>
      <Text color={color} bold>{` ${text.mark}`}</Text>
      <Text
        dimColor={!selected}
      >{` ${text.size}  ${text.mode ? `${text.mode} ` : ''}${text.owner ? `${text.owner} ` : ''}`}</Text>
      <Text
        color={color}
        dimColor={row.node.kind === 'unchanged' && row.node.type !== 'directory' && !selected}
      >
        {text.name}
      </Text>
      {text.reason ? <Text color={color}>{text.reason}</Text> : null}
    </Text>
  );
});

export interface FileTreeProps {
  rows: readonly TreeRow[];
  cursor: number;
  scrollTop: number;
  height: number;
  width: number;
}

export function FileTree({ rows, cursor, scrollTop, height, width }: FileTreeProps) {
  const shown = rows.slice(scrollTop, scrollTop + height);
  return (
    <Box flexDirection="column" height={height}>
      {shown.map((row, index) => (
        <FileRow key={row.node.path} row={row} selected={scrollTop + index === cursor} width={width} />
      ))}
    </Box>
  );
}
