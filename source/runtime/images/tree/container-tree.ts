/** The layer tree of a container: its image's layers with its live writable layer on top. */
import type { Engine } from '../../containers/engine.js';
import { NotFoundError } from '../../errors.js';
import { shortId } from '../digest.js';
import { containerMountpoints, upperDirectory } from '../diff/container.js';
import { layerTree } from './layer-tree.js';
import type { LayerTree } from './types.js';

export async function containerLayerTree(
  engine: Engine,
  reference: string,
  options: { changes?: boolean } = {},
): Promise<LayerTree> {
  const record = await engine.get(reference);
  const image = (await engine.images.list()).find((candidate) => candidate.id === record.Image);
  if (!image) {
    throw new NotFoundError(
      `the image of container ${record.Name} (${shortId(record.Image)}) is no longer in the store`,
    );
  }
  return layerTree(engine.images, image, {
    containerUpper: upperDirectory(engine, record),
    mountpoints: containerMountpoints(engine, record),
    container: { id: record.Id, name: record.Name },
    ...(options.changes === undefined ? {} : { changes: options.changes }),
  });
}
