/**
 * What the Layers pane needs to know about an image or container: its stack of layers and, on
 * demand, the file tree of one layer with what it added, modified and removed. The pane talks
 * only to this interface; `FsLayerTreeSource` implements it by walking the unpacked layer
 * directories, and an image-store tree API can implement it later without touching the pane.
 */

export type FileChange = 'added' | 'modified' | 'removed' | 'unchanged';
export type FileKind = 'directory' | 'file' | 'symlink' | 'other';

export interface FileNode {
  /** Last path component ("" for the root). */
  name: string;
  /** Absolute path inside the image, "/" for the root. */
  path: string;
  kind: FileKind;
  /** Bytes: a file's size; a directory's is the sum of what is below it. A removal shows what it removed. */
  size: number;
  change: FileChange;
  /** Directory entries, sorted by name. */
  children?: FileNode[];
  linkTarget?: string;
  /** The directory replaces the one below it (overlay opaque directory). */
  opaque?: boolean;
}

export interface LayerInfo {
  /** Position in the stack, 0 = bottom. */
  index: number;
  /** diff ID (or ChainID) of an image layer; "live" for a container's writable layer. */
  digest: string;
  /** Unpacked bytes (for the writable layer: measured now). */
  size: number;
  /** The instruction that made the layer (image history), or a description. */
  createdBy: string;
  created?: string;
  /** The container's own writable layer: it changes while the container runs. */
  live?: boolean;
}

export interface Inefficiency {
  path: string;
  /** Layers the path appears in (added, replaced or removed). */
  count: number;
  /** Bytes of every copy together. */
  cumulativeSize: number;
}

export interface LayerAnalysis {
  /** 0..1: the bytes a perfect stack would hold over the bytes this one holds (dive's score). */
  efficiency: number;
  /** Bytes in copies of files that a later layer replaced or removed. */
  wastedBytes: number;
  /** Largest first. */
  inefficiencies: Inefficiency[];
}

export type LayerSubject =
  { kind: 'image'; id: string; name: string } | { kind: 'container'; id: string; name: string };

export interface LayerStack {
  subject: LayerSubject;
  /** Bottom first; for a container the writable layer is last. */
  layers: LayerInfo[];
  totalBytes: number;
}

export interface LayerTreeSource {
  /** The layer stack with sizes and instructions; cheap (reads records, not layer contents). */
  stack(subject: LayerSubject): Promise<LayerStack>;
  /** Efficiency and wasted bytes over the whole stack; walks every layer (cached where immutable). */
  analyze(subject: LayerSubject): Promise<LayerAnalysis>;
  /**
   * The file tree of layer `index`: its own changes, or with `aggregated` the whole filesystem
   * up to that layer with the layer's changes marked (dive's two views).
   */
  tree(subject: LayerSubject, index: number, options?: { aggregated?: boolean }): Promise<FileNode>;
}
