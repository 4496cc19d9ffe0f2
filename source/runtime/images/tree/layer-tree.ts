/**
 * The library entry point behind `gantry image tree`, `gantry image history` and the TUI's
 * Layers pane: an image's (or a container's) layers with their instructions, sizes and change
 * trees, and the stack's efficiency. See types.ts for the meaning of every field.
 */
import { CorruptStateError } from '../../errors.js';
import { exists } from '../../fsutil.js';
import { shortId } from '../digest.js';
import { shownTime } from '../shown-time.js';
import type { ImageStore } from '../store.js';
import type { ImageHistoryEntry, ImageRecord, OciImageConfig } from '../types.js';
import { analyzeLayers, type LayerInput } from './analyze.js';
import type { LayerTree, LayerTreeOptions, TreeLayer } from './types.js';

/**
 * The history entry of each layer, bottom first. Entries marked empty_layer belong to no layer
 * (ENV, CMD...); the others are matched to the layers in order, from the bottom, as docker does.
 * A layer without a matching entry gets undefined.
 */
export function layerHistory(
  config: OciImageConfig,
  layerCount: number,
): Array<ImageHistoryEntry | undefined> {
  const entries = (config.history ?? []).filter((entry) => entry.empty_layer !== true);
  return Array.from({ length: layerCount }, (_, index) => entries[index]);
}

/** One row of `image history`: a history entry, newest first, with the layer it made. */
export interface HistoryRow {
  /** The image ID on the newest row, "<missing>" on the others (docker's convention). */
  id: string;
  created?: string;
  createdBy: string;
  /** Bytes of the layer the entry made; 0 for an empty_layer entry. */
  size: number;
  comment: string;
  emptyLayer: boolean;
  /** diff_id of the layer the entry made. */
  layerDigest?: string;
}

/** `docker history` rows: every history entry, newest first, sizes from the layers they made. */
export function historyRows(image: ImageRecord, config: OciImageConfig): HistoryRow[] {
  const rows: HistoryRow[] = [];
  let layerIndex = 0;
  const history = config.history ?? [];
  for (const entry of history) {
    const empty = entry.empty_layer === true;
    const layer = empty ? undefined : image.layers[layerIndex];
    if (!empty) layerIndex += 1;
    const created = shownTime(entry.created, image);
    rows.push({
      id: '<missing>',
      ...(created ? { created } : {}),
      createdBy: entry.created_by ?? '',
      size: layer?.size ?? 0,
      comment: entry.comment ?? '',
      emptyLayer: empty,
      ...(layer ? { layerDigest: layer.diffId } : {}),
    });
  }
  // Layers the history does not describe (images made without history) still get a row.
  for (; layerIndex < image.layers.length; layerIndex += 1) {
    const layer = image.layers[layerIndex]!;
    rows.push({
      id: '<missing>',
      createdBy: '',
      size: layer.size,
      comment: '',
      emptyLayer: false,
      layerDigest: layer.diffId,
    });
  }
  rows.reverse();
  if (rows[0]) rows[0].id = image.id;
  return rows;
}

/**
 * Analyses the image's layers as unpacked in the store (and with `containerUpper`, a container's
 * writable layer on top). Reads the store under its shared lock, so layers cannot be removed
 * while they are walked.
 */
export async function layerTree(
  store: ImageStore,
  image: ImageRecord,
  options: LayerTreeOptions = {},
): Promise<LayerTree> {
  return store.withSharedLock(async () => {
    const config = await store.readConfig(image);
    const inputs: LayerInput[] = [];
    for (const [index, layer] of image.layers.entries()) {
      const directory = store.layerDirectory(layer.chainId);
      if (!(await exists(directory))) {
        throw new CorruptStateError(
          `image ${shortId(image.id)}: layer ${index + 1} (${layer.chainId}) is missing`,
          {
            hint: 'remove the image and import it again',
          },
        );
      }
      inputs.push({ directory });
    }
    if (options.containerUpper !== undefined) {
      inputs.push({ directory: options.containerUpper, mountpoints: new Set(options.mountpoints ?? []) });
    }
    const analysis = await analyzeLayers(inputs, { changes: options.changes ?? true });
    const history = layerHistory(config, image.layers.length);
    const layers: TreeLayer[] = analysis.layers.map((analyzed, index) => {
      const record = image.layers[index];
      const entry = history[index];
      const layer: TreeLayer = {
        index,
        digest: record?.diffId ?? '',
        chainId: record?.chainId ?? '',
        size: record?.size ?? analyzed.size,
        createdBy: record
          ? (entry?.created_by ?? '')
          : `writable layer of ${options.container?.name ?? 'the container'}`,
        summary: analyzed.summary,
      };
      if (record) layer.blobSize = record.blobSize;
      const created = shownTime(entry?.created, image);
      if (created) layer.created = created;
      if (entry?.comment) layer.comment = entry.comment;
      if (!record) layer.live = true;
      if (analyzed.changes) layer.changes = analyzed.changes;
      return layer;
    });
    const totalBytes = layers.reduce((sum, layer) => sum + layer.size, 0);
    const userBytes = totalBytes - (layers[0]?.size ?? 0);
    return {
      subject: options.container
        ? { kind: 'container', id: options.container.id, names: [options.container.name] }
        : { kind: 'image', id: image.id, names: image.names },
      layers,
      totalBytes,
      userBytes,
      efficiency: analysis.efficiency,
      wastedBytes: analysis.wastedBytes,
      userWastedPercent: userBytes === 0 ? 0 : (analysis.wastedBytes / userBytes) * 100,
      inefficiencies: analysis.inefficiencies,
    };
  });
}
