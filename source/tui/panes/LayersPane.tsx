/**
 * Layers pane (dive's view, for images and running containers): the stack with each layer's size
 * and the instruction that made it, the image's efficiency and wasted bytes; Enter opens the
 * selected layer's files. For a container the top layer is its live writable layer.
 */
import { Box, Text } from 'ink';
import React from 'react';
import { useTui } from '../context.js';
import { hostOf, LOCAL_HOST } from '../hosts/keys.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { formatSize, formatPercent, shortDigest, truncate, truncateStart } from '../format.js';
import type { Inefficiency } from '../layers/layer-tree-source.js';
import { changeCounts } from '../layers/tree-rows.js';
import { selectedLayerIndex, visibleTreeRows } from '../state/layers.js';
import { layerListHeight, paneHeight, scrollToShow, treeHeight } from '../state/layout.js';
import { memoizeLast } from '../state/selectors.js';
import type { TuiState } from '../state/types.js';
import { FileTree, fileTreeHeader } from './FileTree.js';

const selectLayers = (state: TuiState) => state.layers;
const selectSize = (state: TuiState) => state.ui.size;
const countsFor = memoizeLast(changeCounts);

/**
 * The duplicates list, in the CLI's words and figures (`gantry image tree`): what each path
 * wastes (every copy but the smallest, so the column adds up to the header's "wasted"), its
 * copies, all of them together, and the layers that hold them.
 */
export const WASTE_HEADER = `${'WASTED'.padStart(8)}  ${'COPIES'.padStart(6)}  ${'ALL COPIES'.padStart(10)}  ${'LAYERS'.padEnd(10)}  PATH`;

export function wasteRow(item: Inefficiency): string {
  const layers = item.layers.map((index) => index + 1).join(',');
  return `${formatSize(item.wastedBytes).padStart(8)}  ${String(item.count).padStart(6)}  ${formatSize(item.cumulativeBytes).padStart(10)}  ${truncate(layers, 10).padEnd(10)}  `;
}

/** A layer's digest whole when it fits, else docker's 12-character short id: never cut elsewhere. */
export function layerId(digest: string, width: number): string {
  return width >= 110 ? digest : shortDigest(digest, 12);
}

export function LayersPane() {
  const { theme } = useTui();
  const layers = useTuiState(selectLayers);
  const size = useTuiState(selectSize);
  const width = size.columns;
  const height = paneHeight(size);
  if (!layers.subject) {
    return (
      <Box flexDirection="column" paddingX={1}>
        <Text>Nothing selected.</Text>
        <Text dimColor>Select a container (1) or an image (2), then come back with 3.</Text>
      </Box>
    );
  }
  const stack = layers.stack;
  const analysis = layers.analysis;
  const subject = layers.subject;
  const summary = (
    <Text wrap="truncate-end">
      {' '}
      <Text bold>{subject.name}</Text>
      <Text
        dimColor
      >{` (${subject.kind}${hostOf(subject.id) === LOCAL_HOST ? '' : ` on ${hostOf(subject.id)}`})`}</Text>
      {stack ? `  ${stack.layers.length} layers · ${formatSize(stack.totalBytes)}` : ''}
      {analysis ? (
        <Text>
          {'  efficiency '}
          <Text
            bold
            color={
              analysis.efficiency >= 0.95 ? theme.good : analysis.efficiency >= 0.8 ? theme.warn : theme.bad
            }
          >
            {formatPercent(analysis.efficiency * 100)}
          </Text>
          {'  wasted '}
          <Text bold color={analysis.wastedBytes > 0 ? theme.warn : undefined}>
            {formatSize(analysis.wastedBytes)}
          </Text>
        </Text>
      ) : layers.analyzing ? (
        <Text dimColor>{'  measuring efficiency…'}</Text>
      ) : null}
    </Text>
  );
  if (layers.error) {
    return (
      <Box flexDirection="column">
        {summary}
        <Text color={theme.bad}> {layers.error}</Text>
      </Box>
    );
  }
  if (!stack) {
    return (
      <Box flexDirection="column">
        {summary}
        <Text dimColor> reading layers…</Text>
      </Box>
    );
  }
  const treeOpen = layers.focus === 'tree' && layers.tree !== undefined;
  const count = stack.layers.length;
  const listHeight = layerListHeight(size, count, treeOpen);
  const listTop = scrollToShow(layers.cursor, 0, listHeight, count);
  // Row 0 is the top of the stack.
  const ordered = [...stack.layers].reverse();
  const shown = ordered.slice(listTop, listTop + listHeight);
  const selected = stack.layers[selectedLayerIndex(layers)];
  // On a wide terminal each layer's id (docker's 12 characters) gets a column of its own.
  const showIds = width >= 100;
  const instructionWidth = Math.max(10, width - 24 - (showIds ? 14 : 0));
  const layerList = (
    <Box flexDirection="column" height={listHeight + 1}>
      <Text
        bold
        wrap="truncate-end"
      >{` ${'#'.padStart(2)} ${showIds ? `${'ID'.padEnd(12)}  ` : ''}${'SIZE'.padStart(7)}  ${'CREATED BY'.padEnd(Math.min(instructionWidth, 40))}`}</Text>
      {shown.map((layer, index) => {
        const isSelected = listTop + index === layers.cursor;
        const dimmed = treeOpen && !isSelected;
        return (
          <Text key={layer.index} wrap="truncate-end" inverse={isSelected} dimColor={dimmed}>
            {` ${String(layer.index + 1).padStart(2)} ${showIds ? `${(layer.live ? 'live' : shortDigest(layer.digest, 12)).padEnd(12)}  ` : ''}${formatSize(layer.size).padStart(7)}  `}
            <Text color={layer.live ? theme.accent : undefined} bold={layer.live}>
              {truncate(layer.createdBy, instructionWidth)}
            </Text>
          </Text>
        );
      })}
    </Box>
  );
  if (!treeOpen || !layers.tree) {
    const remaining = Math.max(0, height - 1 - (listHeight + 1) - 1);
    const waste = analysis?.inefficiencies ?? [];
    return (
      <Box flexDirection="column" height={height}>
        {summary}
        {layerList}
        <Text dimColor>{'─'.repeat(width)}</Text>
        {selected ? (
          <Box flexDirection="column" height={remaining}>
            <Text wrap="truncate-end">
              {` layer ${selected.index + 1}: `}
              <Text dimColor>
                {selected.live
                  ? 'the container’s writable layer, changing as it runs'
                  : layerId(selected.digest, width)}
              </Text>
              {selected.created && !selected.created.startsWith('1970') ? (
                <Text dimColor>{`  ${selected.created}`}</Text>
              ) : null}
              <Text dimColor>{'   Enter: files · a: aggregated view'}</Text>
            </Text>
            <Text wrap="truncate-end">{` ${selected.createdBy}`}</Text>
            {remaining > 4 ? (
              <>
                <Text bold wrap="truncate-end">
                  {waste.length > 0
                    ? ` Files stored more than once or removed later (${waste.length}), wasting ${formatSize(analysis?.wastedBytes ?? 0)}:`
                    : ' No file is stored twice.'}
                </Text>
                {waste.length > 0 ? <Text bold wrap="truncate-end">{`  ${WASTE_HEADER}`}</Text> : null}
                {waste.slice(0, remaining - 4).map((item) => (
                  <Text key={item.path} wrap="truncate-end">
                    {`  ${wasteRow(item)}`}
                    <Text color={theme.warn}>
                      {truncateStart(item.path, width - 2 - WASTE_HEADER.indexOf('PATH'))}
                    </Text>
                  </Text>
                ))}
              </>
            ) : null}
          </Box>
        ) : null}
      </Box>
    );
  }
  const tree = layers.tree;
  const rows = visibleTreeRows(tree);
  const counts = tree.root ? countsFor(tree.root) : undefined;
  const rowsHeight = treeHeight(size, count);
  return (
    <Box flexDirection="column" height={height}>
      {summary}
      {layerList}
      <Text wrap="truncate-end" bold>
        {` Files of layer ${tree.layer + 1} `}
        <Text dimColor>
          {tree.aggregated ? '(whole filesystem, this layer marked)' : '(its own changes)'}
        </Text>
        {counts ? (
          <Text>
            {'  '}
            <Text color={theme.added}>{`A ${counts.added}`}</Text>
            {'  '}
            <Text color={theme.modified}>{`M ${counts.modified}`}</Text>
            {'  '}
            <Text color={theme.removed}>{`D ${counts.removed}`}</Text>
          </Text>
        ) : null}
        {tree.filter.text ? <Text color={theme.accent}>{`  filter "${tree.filter.text}"`}</Text> : null}
      </Text>
      <Text dimColor wrap="truncate-end">
        {fileTreeHeader(width)}
      </Text>
      {tree.error ? (
        <Text color={theme.bad}> {tree.error}</Text>
      ) : !tree.root ? (
        <Text dimColor> reading files…</Text>
      ) : rows.length === 0 ? (
        <Text dimColor>
          {' '}
          {tree.filter.text ? `no path matches "${tree.filter.text}"` : 'this layer changes no files'}
        </Text>
      ) : (
        <FileTree
          rows={rows}
          cursor={tree.cursor}
          scrollTop={tree.scrollTop}
          height={rowsHeight}
          width={width}
        />
      )}
    </Box>
  );
}
