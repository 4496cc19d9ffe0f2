/**
 * `gantry commit`: a container's writable layer becomes a new layer on top of its image, and the
 * container's config (command, environment, working directory, user, labels...) the new image's
 * config, as docker commit does. `--change` instructions are applied on top.
 *
 * A running container is frozen while its layer is read (docker's default, --pause=false turns
 * it off) so the layer is one consistent moment; without the pause the commit still works, but a
 * file the container is writing may be caught half-written (a file that shrinks meanwhile is
 * refused with a clear error). The layer is staged in a work directory and committed with the
 * image in one step: a failed commit leaves nothing.
 */
import type { Engine } from '../../containers/engine.js';
import type { ContainerRecord } from '../../containers/record.js';
import { NotFoundError } from '../../errors.js';
import { parseChange, type Keyword } from '../build/containerfile.js';
import { applyMetadata, newStageState } from '../build/metadata.js';
import { shortId } from '../digest.js';
import { containerWalkOptions, upperDirectory } from '../diff/container.js';
import { withLayerFrozen } from '../diff/frozen.js';
import { parseImageName } from '../reference.js';
import type { ImageRecord, ImageRuntimeConfig, OciImageConfig } from '../types.js';
import { trace } from '../../trace.js';
import { stageLayer } from './stage-layer.js';
import { writeUpperLayer } from './upper-tar.js';

/** Instructions `--change` accepts (docker's list, without ONBUILD). */
export const COMMIT_CHANGES: readonly Keyword[] = [
  'CMD',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'LABEL',
  'USER',
  'VOLUME',
  'WORKDIR',
  'STOPSIGNAL',
];

export interface CommitOptions {
  /** Name for the new image; without one it is dangling (listed as <none>). */
  reference?: string;
  /** Commit message (history comment). */
  message?: string;
  author?: string;
  /** Containerfile instructions applied to the config (CMD, ENV, ...). */
  changes?: string[];
  /** Freeze a running container while its layer is read (default true, as docker). */
  pause?: boolean;
}

/** The image config docker commit derives from a container: its own settings win. */
export function committedRuntimeConfig(
  image: ImageRuntimeConfig,
  record: ContainerRecord,
): ImageRuntimeConfig {
  const config: ImageRuntimeConfig = { ...structuredClone(image) };
  const container = record.Config;
  if (container.User) config.User = container.User;
  else delete config.User;
  config.Env = [...container.Env];
  if (container.Entrypoint.length > 0) config.Entrypoint = [...container.Entrypoint];
  else delete config.Entrypoint;
  if (container.Cmd.length > 0) config.Cmd = [...container.Cmd];
  else delete config.Cmd;
  if (container.WorkingDir) config.WorkingDir = container.WorkingDir;
  else delete config.WorkingDir;
  if (Object.keys(container.Labels).length > 0) config.Labels = { ...container.Labels };
  else delete config.Labels;
  if (container.StopSignal && (container.StopSignal !== 'SIGTERM' || image.StopSignal))
    config.StopSignal = container.StopSignal;
  return config;
}

export async function commitContainer(
  engine: Engine,
  reference: string,
  options: CommitOptions = {},
): Promise<ImageRecord> {
  // Everything the user gave is checked before anything is frozen or written.
  const name = options.reference === undefined ? undefined : parseImageName(options.reference);
  const changes = (options.changes ?? []).map((text) => parseChange(text, COMMIT_CHANGES));
  let record = await engine.get(reference);
  const store = engine.images;
  const image = (await store.list()).find((candidate) => candidate.id === record.Image);
  if (!image) {
    throw new NotFoundError(
      `the image of container ${record.Name} (${shortId(record.Image)}) is no longer in the store`,
      {
        hint: 'a container whose image was removed cannot be committed',
      },
    );
  }
  const imageConfig = await store.readConfig(image);
  const state = newStageState(committedRuntimeConfig(imageConfig.config ?? {}, record));
  const context = { escape: '\\', buildArgs: new Map<string, string>(), usedBuildArgs: new Set<string>() };
  for (const change of changes) applyMetadata(change, state, context);

  // Before anything is frozen: should this process be killed, the next gantry command thaws the
  // container and sweeps the work directory (see containers/unfinished.ts).
  const entry = engine.journal.begin('commit', record.Id);
  const work = await store.createWorkDirectory('commit').catch((error: unknown) => {
    entry.end();
    throw error;
  });
  try {
    const staged = await withLayerFrozen(engine, record, options.pause !== false, async (current) => {
      record = current;
      return stageLayer(
        work,
        image.layers.at(-1)?.chainId,
        async (writer) => {
          await writeUpperLayer(
            writer,
            upperDirectory(engine, current),
            current.LayerDirs,
            containerWalkOptions(engine, current),
          );
        },
        { label: `the layer of container ${current.Name}` },
      );
    });
    const created = new Date().toISOString();
    const config: OciImageConfig = {
      ...imageConfig,
      created,
      ...(options.author ? { author: options.author } : {}),
      config: state.config,
      rootfs: {
        type: 'layers',
        diff_ids: [...image.layers.map((layer) => layer.diffId), staged.record.diffId],
      },
      history: [
        ...(imageConfig.history ?? []),
        {
          created,
          created_by: [...record.Config.Entrypoint, ...record.Config.Cmd].join(' '),
          ...(options.author ? { author: options.author } : {}),
          ...(options.message ? { comment: options.message } : {}),
        },
      ],
    };
    const stored = await store.addImage(work, {
      config,
      layers: [...image.layers, staged.record],
      staged: new Map([[staged.record.chainId, staged]]),
      names: name === undefined ? [] : [name],
    });
    trace('commit: image stored');
    return stored;
  } finally {
    await work.dispose();
    entry.end();
  }
}
