/**
 * Layers pane (dive's view, for images and running containers): the stack with each layer's size
 * and the instruction that made it, the image's efficiency and wasted bytes; Enter opens the
 * selected layer's files. For a container the top layer is its live writable layer.
 */
import { Box, Text } from 'ink';
import React from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { formatSize, formatPercent, shortDigest, truncate, truncateStart } from '../format.js';
import { changeCounts } from '../layers/tree-rows.js';
import { selectedLayerIndex, visibleTreeRows } from '../state/layers.js';
import { layerListHeight, paneHeight, scrollToShow, treeHeight } from '../state/layout.js';
import { memoizeLast } from '../state/selectors.js';
import type { TuiState } from '../state/types.js';
import { FileTree } from './FileTree.js';

const selectLayers = (state: TuiState) => state.layers;
const selectSize = (state: TuiState) => state.ui.size;
const countsFor = memoizeLast(changeCounts);

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
      <Text dimColor>{subject.kind === 'container' ? ' (container)' : ' (image)'}</Text>
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
  const instructionWidth = Math.max(10, width - 24);
  const layerList = (
    <Box flexDirection="column" height={listHeight + 1}>
      <Text
        bold
        wrap="truncate-end"
      >{`  #    SIZE  ${'CREATED BY'.padEnd(Math.min(instructionWidth, 40))}`}</Text>
      {shown.map((layer, index) => {
        const isSelected = listTop + index === layers.cursor;
        const dimmed = treeOpen && !isSelected;
        return (
          <Text key={layer.index} wrap="truncate-end" inverse={isSelected} dimColor={dimmed}>
            {` ${String(layer.index + 1).padStart(2)} ${formatSize(layer.size).padStart(7)}  `}
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
                  : shortDigest(selected.digest, 19)}
              </Text>
              {selected.created && !selected.created.startsWith('1970') ? (
                <Text dimColor>{`  ${selected.created}`}</Text>
              ) : null}
              <Text dimColor>{'   Enter: files · a: aggregated view'}</Text>
            </Text>
            <Text wrap="truncate-end">{` ${selected.createdBy}`}</Text>
            {remaining > 3 ? (
              <>
                <Text bold>
                  {waste.length > 0
                    ? ` Files in more than one layer (${waste.length}):`
                    : ' No file is stored twice.'}
                </Text>
                {waste.slice(0, remaining - 3).map((item) => (
                  <Text key={item.path} wrap="truncate-end">
                    {`  ${String(item.count).padStart(3)}× ${formatSize(item.cumulativeBytes).padStart(7)}  `}
                    <Text color={theme.warn}>{truncateStart(item.path, width - 20)}</Text>
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
