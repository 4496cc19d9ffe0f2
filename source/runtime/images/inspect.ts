/** docker-shaped `image inspect` output (docker's ImageInspect field names). */
import { shownTime } from './shown-time.js';
import type { ImageRecord, OciImageConfig } from './types.js';

export function inspectImage(record: ImageRecord, config: OciImageConfig): Record<string, unknown> {
  return {
    Id: record.id,
    RepoTags: record.names,
    // Only what a registry really holds it by (recorded by pull and push), as docker's: a local
    // name with the stored manifest's digest was never in any registry.
    RepoDigests: [...new Set(record.digests ?? [])],
    Created: shownTime(config.created, record) ?? record.created,
    Author: config.author ?? '',
    Config: config.config ?? {},
    Architecture: config.architecture,
    Variant: config.variant,
    Os: config.os,
    Size: record.size,
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: record.layers
          .map((l) => l.chainId)
          .reverse()
          .join(':'),
      },
    },
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    History: config.history ?? [],
    Metadata: { LastTagTime: record.created },
  };
}
