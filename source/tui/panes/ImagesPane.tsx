/**
 * Images pane: each image with its size, how much of it is its own and how much it shares with
 * other images (a layer with the same ChainID is stored once), and which images it shares with.
 * With several hosts a HOST column leads, marked while its host cannot be reached.
 */
import { Box, Text } from 'ink';
import React, { useMemo } from 'react';
import { fitColumns, type ColumnSpec } from '../components/column-fit.js';
import { DataTable, type RowSelector } from '../components/DataTable.js';
import type { ImageRecord } from '../../runtime/images/types.js';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { formatSize, formatDuration, shortDigest, truncate } from '../format.js';
import { hostOf, realId, type HostStatus } from '../hosts/keys.js';
import { detailHeight, tableHeight } from '../state/layout.js';
import { hostText } from './container-cells.js';
import { imageNames, imageSharing, memoizeLast, selectedImage, visibleImages } from '../state/selectors.js';
import type { TuiState } from '../state/types.js';

type ImageColumn =
  'host' | 'name' | 'id' | 'created' | 'layers' | 'size' | 'unique' | 'shared' | 'containers' | 'sharesWith';

const IMAGE_COLUMNS: readonly ColumnSpec<ImageColumn>[] = [
  { key: 'host', title: 'HOST', min: 8, max: 24, priority: 9.5 },
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
const selectHosts = (state: TuiState) => state.containers.hosts;
const selectHostShown = (state: TuiState) => state.containers.host;

const windowIds = memoizeLast((rows: readonly ImageRecord[], scrollTop: number, height: number) =>
  rows.slice(scrollTop, scrollTop + height).map((record) => record.id),
);
const selectWindow = (state: TuiState) =>
  windowIds(visibleImages(state), state.images.scrollTop, tableHeight(state.ui.size));

/** The status of an image's host when several are shown. */
function hostStatus(state: TuiState, key: string): HostStatus | undefined {
  const { hosts } = state.containers;
  if (hosts.length < 2) return undefined;
  const name = hostOf(key);
  return hosts.find((host) => host.name === name);
}

/** The columns: HOST first when several hosts are shown, as wide as their longest name (to 24). */
function imageColumns(hostWidth: number): ColumnSpec<ImageColumn>[] {
  return IMAGE_COLUMNS.filter((column) => hostWidth > 0 || column.key !== 'host').map((column) =>
    column.key === 'host' ? { ...column, min: Math.min(24, Math.max(column.min, hostWidth)) } : column,
  );
}

const selectRow: RowSelector = (state, id, theme) => {
  const record = state.images.records.find((candidate) => candidate.id === id);
  if (!record) return undefined;
  const share = imageSharing(state.images.records, state.containers.records).get(record.id);
  const host = hostStatus(state, record.id);
  return {
    key: record.id,
    cells: {
      host: host ? hostText(host) : '',
      name: imageNames(record),
      id: shortDigest(realId(record.id)),
      created: created(record.created, state.ui.now),
      layers: String(record.layers.length),
      size: formatSize(record.size),
      unique: formatSize(share?.uniqueBytes ?? record.size),
      shared: formatSize(share?.sharedBytes ?? 0),
      containers: String(share?.containers ?? 0),
      sharesWith: share?.sharesWith.join(', ') || '-',
    },
    colors: {
      sharesWith: share && share.sharesWith.length > 0 ? theme.info : undefined,
      host: host?.state === 'unreachable' ? theme.bad : host?.state === 'connecting' ? theme.warn : undefined,
    },
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
  const hosts = useTuiState(selectHosts);
  const hostShown = useTuiState(selectHostShown);
  const hostWidth = hosts.length > 1 ? Math.max(...hosts.map((host) => host.name.length + 2)) : 0;
  const columns = useMemo(() => fitColumns(imageColumns(hostWidth), size.columns), [size.columns, hostWidth]);
  const height = tableHeight(size);
  const empty = !images.loaded
    ? 'reading images…'
    : images.records.length === 0
      ? 'No images yet. Press c to create one from this host (no network needed).'
      : hostShown !== undefined && !images.filter.text
        ? `no images shown on ${hostShown} (H shows the next host, then all)`
        : `nothing matches "${images.filter.text}"`;
  const share = selected ? sharing.get(selected.id) : undefined;
  const selectedHost = selected && hosts.length > 1 ? hostOf(selected.id) : undefined;
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
                {selectedHost ? <Text>{` on ${selectedHost}`}</Text> : null}
                <Text dimColor>{`  ${realId(selected.id)}`}</Text>
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
