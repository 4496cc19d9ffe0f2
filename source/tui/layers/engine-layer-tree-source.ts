/**
 * LayerTreeSource over the image engine's layer trees (runtime/images/tree, what `gantry image
 * tree` prints). An image's stack is read from its record and config alone, so the pane shows it
 * before any layer is walked; its tree is computed once and kept, since image layers never
 * change. A container's tree is computed afresh for every question: its writable layer changes
 * while it runs. A remote host's image (several hosts shown) is walked on its host; its stack
 * comes with that tree, as the protocol serves no image config.
 */
import { GantryError, NotFoundError } from '../../runtime/errors.js';
import { shortId } from '../../runtime/images/digest.js';
import { aggregateTree } from '../../runtime/images/tree/aggregate.js';
import { layerHistory } from '../../runtime/images/tree/layer-tree.js';
import type { FileNode, LayerTree, TreeLayer } from '../../runtime/images/tree/types.js';
import type { ImageRecord } from '../../runtime/images/types.js';
import type { TuiEngine } from '../engine-adapter.js';
import { hostOf, LOCAL_HOST } from '../hosts/keys.js';
import { tidyInstruction } from '../format.js';
import type {
  LayerAnalysis,
  LayerInfo,
  LayerStack,
  LayerSubject,
  LayerTreeSource,
} from './layer-tree-source.js';

type LayerFacts = Pick<TreeLayer, 'index' | 'digest' | 'size' | 'createdBy' | 'created' | 'comment' | 'live'>;

function layerInfo(layer: LayerFacts): LayerInfo {
  const info: LayerInfo = {
    index: layer.index,
    digest: layer.live ? 'live' : layer.digest,
    size: layer.size,
    createdBy: layer.live
      ? `${layer.createdBy} (live)`
      : tidyInstruction(layer.createdBy) || layer.comment || '(no history)',
  };
  if (layer.created) info.created = layer.created;
  if (layer.live) info.live = true;
  return info;
}

function stackOf(subject: LayerSubject, layers: LayerInfo[]): LayerStack {
  return { subject, layers, totalBytes: layers.reduce((sum, layer) => sum + layer.size, 0) };
}

function changesOf(layer: TreeLayer): FileNode {
  if (!layer.changes) throw new GantryError(`layer ${layer.index + 1} was analysed without its changes`);
  return layer.changes;
}

const CONTAINER_TREE_TTL_MS = 1000;

export class EngineLayerTreeSource implements LayerTreeSource {
  private readonly imageTrees = new Map<string, Promise<LayerTree>>();
  private readonly containerTrees = new Map<string, { time: number; tree: Promise<LayerTree> }>();

  constructor(private readonly engine: TuiEngine) {}

  private async image(id: string): Promise<ImageRecord> {
    const image = (await this.engine.images.list(hostOf(id))).find((record) => record.id === id);
    if (!image) throw new NotFoundError(`image ${shortId(id)} is gone`);
    return image;
  }

  private imageTree(id: string): Promise<LayerTree> {
    let tree = this.imageTrees.get(id);
    if (!tree) {
      tree = this.image(id).then((image) => this.engine.images.layerTree(image));
      tree.catch(() => this.imageTrees.delete(id));
      this.imageTrees.set(id, tree);
    }
    return tree;
  }

  private layerTree(subject: LayerSubject): Promise<LayerTree> {
    return subject.kind === 'image' ? this.imageTree(subject.id) : this.containerTree(subject.id);
  }

  /**
   * A container's tree (with the changes, which the file tree needs) is read once for the
   * questions of one refresh (stack, analysis, open tree) and again after a short while.
   */
  private containerTree(id: string): Promise<LayerTree> {
    const now = Date.now();
    const cached = this.containerTrees.get(id);
    if (cached && now - cached.time < CONTAINER_TREE_TTL_MS) return cached.tree;
    const tree = this.engine.containerLayerTree(id, { changes: true });
    tree.catch(() => this.containerTrees.delete(id));
    this.containerTrees.set(id, { time: now, tree });
    return tree;
  }

  async stack(subject: LayerSubject): Promise<LayerStack> {
    if (subject.kind === 'container' || hostOf(subject.id) !== LOCAL_HOST) {
      const tree = await this.layerTree(subject);
      return stackOf(subject, tree.layers.map(layerInfo));
    }
    const image = await this.image(subject.id);
    const config = await this.engine.images.readConfig(image).catch(() => undefined);
    const history = config ? layerHistory(config, image.layers.length) : [];
    const layers = image.layers.map((layer, index) => {
      const entry = history[index];
      return layerInfo({
        index,
        digest: layer.diffId,
        size: layer.size,
        createdBy: entry?.created_by ?? '',
        ...(entry?.created ? { created: entry.created } : {}),
        ...(entry?.comment ? { comment: entry.comment } : {}),
      });
    });
    return stackOf(subject, layers);
  }

  async analyze(subject: LayerSubject): Promise<LayerAnalysis> {
    const { efficiency, wastedBytes, inefficiencies } = await this.layerTree(subject);
    return { efficiency, wastedBytes, inefficiencies };
  }

  async tree(
    subject: LayerSubject,
    index: number,
    options: { aggregated?: boolean } = {},
  ): Promise<FileNode> {
    const tree = await this.layerTree(subject);
    const layer = tree.layers[index];
    if (!layer) throw new NotFoundError(`layer ${index + 1} does not exist`);
    if (!options.aggregated) return changesOf(layer);
    return aggregateTree(tree.layers.slice(0, index + 1).map(changesOf));
  }
}
