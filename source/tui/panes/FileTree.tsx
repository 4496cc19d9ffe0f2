/**
 * The file tree of one layer: each entry marked A (added), M (modified) or D (removed) with its
 * size, directories foldable; rows are windowed to the pane and memoised.
 */
import { Box, Text } from 'ink';
import React, { memo } from 'react';
import { useTui } from '../context.js';
import { formatSize, truncate } from '../format.js';
import type { ChangeKind } from '../layers/layer-tree-source.js';
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

export function treeRowText(row: TreeRow, width: number): { mark: string; size: string; name: string } {
  const node = row.node;
  const fold =
    node.type === 'directory' && (node.children?.length ?? 0) > 0 ? (row.expanded ? '▾ ' : '▸ ') : '';
  const suffix =
    node.type === 'directory'
      ? '/'
      : node.type === 'symlink' && node.linkTarget !== undefined
        ? ` → ${node.linkTarget}`
        : '';
  const name = `${treePrefix(row)}${fold}${node.name}${suffix}${node.opaque ? ' (replaces below)' : ''}`;
  return {
    mark: MARKS[node.kind],
    size: formatSize(node.size).padStart(7),
    name: truncate(name, Math.max(4, width - 12)),
  };
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
      <Text dimColor={!selected}>{` ${text.size}  `}</Text>
      <Text
        color={color}
        dimColor={row.node.kind === 'unchanged' && row.node.type !== 'directory' && !selected}
      >
        {text.name}
      </Text>
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
