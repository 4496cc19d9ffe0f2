/**
 * The waste of a layer stack, from the copies each layer holds of each path. dive's score
 * (filetree/efficiency.go) is kept: the smallest copy of every path over all copies. Its wasted
 * bytes are not: dive adds up every copy of a path stored twice, the one the image still needs
 * included, so a 1 MB file written once and overwritten once "wastes" 2 MB. Here the waste is
 * every copy but the smallest, which makes the score and the waste agree:
 * efficiency = 1 - wasted / (bytes of all copies).
 */
import type { Inefficiency } from './types.js';

interface PathCopies {
  count: number;
  cumulative: number;
  smallest: number;
  layers: number[];
}

export interface EfficiencyResult {
  efficiency: number;
  wastedBytes: number;
  /** Bytes of every copy of every path. */
  cumulativeBytes: number;
  inefficiencies: Inefficiency[];
}

export class WasteLedger {
  private readonly paths = new Map<string, PathCopies>();

  /**
   * Layer `layer` holds a copy of `path` of `bytes` (0 for a removal: a whiteout, an opaque
   * directory or a type change hiding it). Directories are not recorded: they hold no bytes.
   */
  record(path: string, layer: number, bytes: number): void {
    const copies = this.paths.get(path);
    if (!copies) {
      this.paths.set(path, { count: 1, cumulative: bytes, smallest: bytes, layers: [layer] });
      return;
    }
    copies.count += 1;
    copies.cumulative += bytes;
    copies.smallest = Math.min(copies.smallest, bytes);
    if (copies.layers.at(-1) !== layer) copies.layers.push(layer);
  }

  result(): EfficiencyResult {
    let smallestTotal = 0;
    let cumulativeTotal = 0;
    let wastedBytes = 0;
    const inefficiencies: Inefficiency[] = [];
    for (const [path, copies] of this.paths) {
      smallestTotal += copies.smallest;
      cumulativeTotal += copies.cumulative;
      if (copies.count < 2) continue;
      const wasted = copies.cumulative - copies.smallest;
      wastedBytes += wasted;
      inefficiencies.push({
        path,
        count: copies.count,
        cumulativeBytes: copies.cumulative,
        wastedBytes: wasted,
        layers: copies.layers,
      });
    }
    inefficiencies.sort(
      (a, b) =>
        b.wastedBytes - a.wastedBytes ||
        b.cumulativeBytes - a.cumulativeBytes ||
        (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
    );
    return {
      efficiency: cumulativeTotal === 0 ? 1 : smallestTotal / cumulativeTotal,
      wastedBytes,
      cumulativeBytes: cumulativeTotal,
      inefficiencies,
    };
  }
}
