/**
 * What every import format is reduced to: for each image, its names, its documents (already
 * read and verified) and where each layer's bytes are. The store takes it from there, the same
 * way for every format.
 */
import type { BlobLocation } from '../layer/ingest.js';
import type { OciImageConfig } from '../types.js';

export interface CandidateLayer {
  location: BlobLocation;
  /** Digest the manifest claims; undefined for docker-archive layers, which have no manifest. */
  digest: string | undefined;
  size: number | undefined;
  /** Media type from the manifest; undefined when there is none (then told from the content). */
  mediaType: string | undefined;
  /** The config's diff_id for this layer. */
  diffId: string;
  /** Names the layer in messages. */
  label: string;
  /**
   * The location is a whole file of the import's own (a download in the work directory): the
   * store may link it into place instead of copying the bytes.
   */
  adoptable?: boolean;
}

export interface ImageCandidate {
  /** Where in the input the image was found, for messages. */
  label: string;
  /** Names in familiar "name:tag" form. */
  names: string[];
  /** "repository@sha256:…" references a registry knows it by (a pull's manifest and index). */
  digests?: string[];
  /** The manifest as found; undefined when the format has none and the store writes one. */
  manifest: { bytes: Buffer; digest: string; mediaType: string } | undefined;
  config: { bytes: Buffer; digest: string; value: OciImageConfig };
  layers: CandidateLayer[];
}

export type ImageSourceFormat = 'oci-layout' | 'oci-archive' | 'docker-archive';

export interface ImageSource {
  format: ImageSourceFormat;
  images: ImageCandidate[];
}
