/**
 * Images pane: each image with its size, how much of it is its own and how much it shares with
 * other images (a layer with the same ChainID is stored once), and which images it shares with.
 */
import { Box, Text } from 'ink';
import React, { useMemo } from 'react';
import { fitColumns, type ColumnSpec } from '../components/column-fit.js';
import { DataTable, type RowSelector } from '../components/DataTable.js';
import type { ImageRecord } from '../../runtime/images/types.js';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { formatSize, formatDuration, shortDigest, truncate } from '../format.js';
import { detailHeight, tableHeight } from '../state/layout.js';
import { imageNames, imageSharing, memoizeLast, selectedImage, visibleImages } from '../state/selectors.js';
import type { TuiState } from '../state/types.js';

type ImageColumn =
  'name' | 'id' | 'created' | 'layers' | 'size' | 'unique' | 'shared' | 'containers' | 'sharesWith';

const IMAGE_COLUMNS: readonly ColumnSpec<ImageColumn>[] = [
  { key: 'name', title: 'NAME', min: 12, max: 64, priority: 10 },
  { key: 'id', title: 'ID', min: 12, priority: 4 },
  { key: 'created', title: 'CREATED', min: 8, priority: 3, align: 'right' },
  { key: 'layers', title: 'LAYERS', min: 6, priority: 5, align: 'right' },
  { key: 'size', title: 'SIZE', min: 7, priority: 9, align: 'right' },
  { key: 'unique', title: 'UNIQUE', min: 7, priority: 8, align: 'right' },
  { key: 'shared', title: 'SHARED', min: 7, priority: 8, align: 'right' },
  { key: 'containers', title: 'USED', min: 4, priority: 6, align: 'right' },
  { key: 'sharesWith', title: 'SHARES LAYERS WITH', min: 18, max: Number.MAX_SAFE_INTEGER, priority: 7 },
];

const selectSize = (state: TuiState) => state.ui.size;
const selectImages = (state: TuiState) => state.images;
const selectSharing = (state: TuiState) => imageSharing(state.images.records, state.containers.records);
const selectSelected = (state: TuiState) => selectedImage(state);

const windowIds = memoizeLast((rows: readonly ImageRecord[], scrollTop: number, height: number) =>
  rows.slice(scrollTop, scrollTop + height).map((record) => record.id),
);
const selectWindow = (state: TuiState) =>
  windowIds(visibleImages(state), state.images.scrollTop, tableHeight(state.ui.size));

const selectRow: RowSelector = (state, id, theme) => {
  const record = state.images.records.find((candidate) => candidate.id === id);
  if (!record) return undefined;
  const share = imageSharing(state.images.records, state.containers.records).get(record.id);
  return {
    key: record.id,
    cells: {
      name: imageNames(record),
      id: shortDigest(record.id),
      created: created(record.created, state.ui.now),
      layers: String(record.layers.length),
      size: formatSize(record.size),
      unique: formatSize(share?.uniqueBytes ?? record.size),
      shared: formatSize(share?.sharedBytes ?? 0),
      containers: String(share?.containers ?? 0),
      sharesWith: share?.sharesWith.join(', ') || '-',
    },
    colors: { sharesWith: share && share.sharesWith.length > 0 ? theme.info : undefined },
  };
};

function created(iso: string, now: number): string {
  const time = Date.parse(iso);
  // from-host images carry the epoch as a fixed, reproducible time.
  if (Number.isNaN(time) || time <= 0) return '-';
  return `${formatDuration(now - time)} ago`;
}

export function ImagesPane() {
  const { theme } = useTui();
  const size = useTuiState(selectSize);
  const images = useTuiState(selectImages);
  const shown = useTuiState(selectWindow);
  const sharing = useTuiState(selectSharing);
  const selected = useTuiState(selectSelected);
  const columns = useMemo(() => fitColumns(IMAGE_COLUMNS, size.columns), [size.columns]);
  const height = tableHeight(size);
  const empty = !images.loaded
    ? 'reading images…'
    : images.records.length === 0
      ? 'No images yet. Press c to create one from this host (no network needed).'
      : `nothing matches "${images.filter.text}"`;
  const share = selected ? sharing.get(selected.id) : undefined;
  return (
    <Box flexDirection="column">
      <Box height={height + 1} flexDirection="column">
        <DataTable
          columns={columns}
          rowKeys={shown}
          selectRow={selectRow}
          selectedKey={images.selectedId}
          empty={empty}
        />
      </Box>
      {detailHeight(size) > 0 ? (
        <Box flexDirection="column">
          <Text dimColor>{'─'.repeat(size.columns)}</Text>
          {selected ? (
            <>
              <Text wrap="truncate-end">
                {' '}
                <Text bold>{imageNames(selected)}</Text>
                <Text dimColor>{`  ${selected.id}`}</Text>
              </Text>
              <Text wrap="truncate-end">
                {` ${selected.layers.length} layers, ${formatSize(selected.size)}: ${formatSize(share?.uniqueBytes ?? 0)} its own, ${formatSize(share?.sharedBytes ?? 0)} shared`}
                {share && share.sharesWith.length > 0 ? (
                  <Text
                    color={theme.info}
                  >{` with ${truncate(share.sharesWith.join(', '), size.columns / 2)}`}</Text>
                ) : null}
                <Text
                  dimColor
                >{`  ·  ${share?.containers ?? 0} container(s)  ·  Enter: layers, n: run`}</Text>
              </Text>
            </>
          ) : (
            <Text dimColor> no image selected</Text>
          )}
        </Box>
      ) : null}
    </Box>
  );
}
