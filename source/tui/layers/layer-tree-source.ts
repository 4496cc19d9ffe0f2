/**
 * What the Layers pane needs to know about an image or container: its stack of layers and, on
 * demand, the file tree of one layer with what it added, modified and removed. The pane talks
 * only to this interface; `EngineLayerTreeSource` implements it over the image engine's layer
 * trees (runtime/images/tree), whose file nodes and waste figures the pane shows as they are.
 */
import type { FileNode, LayerTree, TreeLayer } from '../../runtime/images/tree/types.js';

export type { ChangeKind, FileNode, FileType, Inefficiency } from '../../runtime/images/tree/types.js';

/** One row of the layer list. `digest` is "live" for a container's writable layer. */
export type LayerInfo = Pick<TreeLayer, 'index' | 'digest' | 'size' | 'createdBy' | 'created' | 'live'>;

/** The stack's efficiency (dive's score), its wasted bytes and the paths that waste them. */
export type LayerAnalysis = Pick<LayerTree, 'efficiency' | 'wastedBytes' | 'inefficiencies'>;

export type LayerSubject =
  { kind: 'image'; id: string; name: string } | { kind: 'container'; id: string; name: string };

export interface LayerStack {
  subject: LayerSubject;
  /** Bottom first; for a container the writable layer is last. */
  layers: LayerInfo[];
  totalBytes: number;
}

export interface LayerTreeSource {
  /** The layer stack with sizes and instructions; cheap for an image (reads records, not layers). */
  stack(subject: LayerSubject): Promise<LayerStack>;
  /** Efficiency and wasted bytes over the whole stack; walks every layer (cached where immutable). */
  analyze(subject: LayerSubject): Promise<LayerAnalysis>;
  /**
   * The file tree of layer `index`: its own changes, or with `aggregated` the whole filesystem
   * up to that layer with the layer's changes marked (dive's two views).
   */
  tree(subject: LayerSubject, index: number, options?: { aggregated?: boolean }): Promise<FileNode>;
}
