/**
 * A RUN step: a real container of the runtime on the layers built so far (overlay, namespaces,
 * cgroup, no network unless asked), its output streamed back, and afterwards its writable layer
 * is the step's layer. The container is removed whatever happens.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import type { Engine } from '../../containers/engine.js';
import { identify, isAlive } from '../../containers/process-identity.js';
import type { ContainerRecord } from '../../containers/record.js';
import { trace } from '../../trace.js';
import { containerMountpoints } from '../diff/container.js';
import type { ImageRecord, ImageRuntimeConfig } from '../types.js';

export interface RunStepOptions {
  argv: string[];
  /** Extra environment (the ARGs in scope); the config's Env comes from `config`. */
  env: string[];
  config: ImageRuntimeConfig;
  /** Layer directories the step runs on, bottom first. */
  layerDirs: string[];
  /** The base image (the container's Image for `ps` and in-use checks); undefined for scratch. */
  baseImage: ImageRecord | undefined;
  baseReference: string;
  network: 'none' | 'host';
  /** docker `--mount` values: RUN --mount and here-document scripts (run-mounts.ts). */
  mounts?: string[];
  /** --ulimit values of `gantry build`. */
  ulimits?: string[];
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  signal?: AbortSignal;
}

export interface RunStepResult {
  exitCode: number;
  record: ContainerRecord;
  /** The container's writable layer: the step's changes. */
  upper: string;
  /** Its runtime mount destinations (stubs there are not changes). */
  mountpoints: string[];
}

/**
 * Runs the step and hands its result to `use` while the container still exists (its upperdir
 * is read in place); the container is removed afterwards, also on failure.
 */
/** Marks the containers of build steps. */
export const BUILD_STEP_LABEL = 'io.gantry.build-step';
/** The build process a step container belongs to ("pid:start time"), to tell orphans. */
export const BUILDER_LABEL = 'io.gantry.builder';

function builderIdentity(): string {
  const self = identify(process.pid);
  return self ? `${self.pid}:${self.startTime}` : '';
}

/**
 * Removes the step containers of builds that ended without cleaning up (killed with SIGKILL):
 * their builder process is gone. A running build's containers are left alone.
 */
export async function sweepOrphanedStepContainers(engine: Engine): Promise<void> {
  const { records } = await engine.list({ all: true });
  for (const record of records) {
    const labels = record.Config.Labels ?? {};
    if (labels[BUILD_STEP_LABEL] !== 'true') continue;
    const [pid, startTime] = (labels[BUILDER_LABEL] ?? '').split(':').map(Number);
    // Only a builder that is known and gone makes an orphan; without a readable identity (an
    // older build still running), leave it alone.
    if (!pid || !startTime || isAlive({ pid, startTime })) continue;
    await engine.remove(record.Id, { force: true }).catch(() => undefined);
  }
}

export async function runStep<T>(
  engine: Engine,
  options: RunStepOptions,
  use: (result: RunStepResult) => Promise<T>,
): Promise<T> {
  const baseRecord: ImageRecord = options.baseImage ?? {
    id: '',
    names: [],
    manifestDigest: '',
    configDigest: '',
    layers: [],
    created: new Date().toISOString(),
    size: 0,
  };
  const record = await engine.createFrom(
    {
      image: options.baseReference,
      command: options.argv,
      entrypoint: '',
      env: options.env,
      ...(options.config.WorkingDir ? { workdir: options.config.WorkingDir } : {}),
      ...(options.config.User ? { user: options.config.User } : {}),
      network: options.network,
      ...(options.mounts && options.mounts.length > 0 ? { mounts: options.mounts } : {}),
      ...(options.ulimits && options.ulimits.length > 0 ? { ulimits: options.ulimits } : {}),
      name: `gantry-build-${crypto.randomBytes(6).toString('hex')}`,
      // A VOLUME of the image being built does not hide what RUN writes there (BuildKit's rule).
      skipImageVolumes: true,
      labels: { [BUILD_STEP_LABEL]: 'true', [BUILDER_LABEL]: builderIdentity() },
    },
    {
      record: baseRecord,
      config: {
        architecture: '',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [] },
        config: options.config,
      },
      layerDirs: options.layerDirs,
    },
  );
  trace('build: step container created');
  const abort = (): void => {
    void engine.kill(record.Id, 'SIGKILL').catch(() => undefined);
  };
  try {
    options.signal?.addEventListener('abort', abort, { once: true });
    await engine.start(record.Id);
    trace('build: step container started');
    if (options.signal?.aborted) abort();
    for await (const entry of engine.logs(record.Id, { follow: true }))
      options.onOutput?.(entry.stream, entry.text);
    const exitCode = await engine.wait(record.Id);
    trace('build: step ran');
    const current = await engine.get(record.Id).catch(() => record);
    return await use({
      exitCode,
      record: current,
      upper: path.join(engine.containers.dir(record.Id), 'upper'),
      mountpoints: containerMountpoints(engine, current),
    });
  } finally {
    options.signal?.removeEventListener('abort', abort);
    await engine.remove(record.Id, { force: true }).catch(() => undefined);
    trace('build: step container removed');
  }
}
