/**
 * `gantry build`: runs a Containerfile against a build context. FROM takes an image from the
 * store (or scratch); RUN runs in a real container of the runtime on the layers built so far and
 * its writable layer becomes the step's layer; COPY/ADD write a layer from the context; the
 * other instructions change the config (empty_layer history entries). Each step first asks the
 * build cache (cache.ts) and reuses the layer it finds, which is what makes a rebuild after a late
 * change, or a second image on the same base, bake only what is new.
 *
 * New layers are staged in a private work directory and committed with the image in one step
 * at the end, so a failed or interrupted build leaves no image, no tag, no layer and no cache
 * record behind; the containers it ran are removed as each step ends.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Engine } from '../../containers/engine.js';
import { GantryError, InvalidArgumentError, NotFoundError, UnsupportedError } from '../../errors.js';
import { StackView } from '../diff/stack-view.js';
import { writeUpperLayer } from '../commit/upper-tar.js';
import { stageLayer, type StagedLayer } from '../commit/stage-layer.js';
import { formatPlatform, hostPlatform } from '../import/platform.js';
import { parseImageName } from '../reference.js';
import type { ImageHistoryEntry, ImageRecord, LayerRecord, OciImageConfig } from '../types.js';
import { BuildCache, stepKey, type CacheRecord } from './cache.js';
import { parseContainerfile, type Containerfile, type Instruction } from './containerfile.js';
import { planCopy } from './copy.js';
import { IgnoreMatcher } from './ignore.js';
import {
  applyMetadata,
  newStageState,
  runEnvironment,
  substitutionVariables,
  type MetadataContext,
  type StageState,
} from './metadata.js';
import { trace } from '../../trace.js';
import { runStep, sweepOrphanedStepContainers } from './run-step.js';
import { expandWord } from './words.js';

export const BUILD_HISTORY_COMMENT = 'gantry build';

export interface BuildOptions {
  /** The build context directory. */
  context: string;
  /** The Containerfile (default: Containerfile, else Dockerfile, in the context). */
  file?: string;
  /** The Containerfile's text, read elsewhere (`-f -` reads it from stdin); `file` is then unused. */
  containerfileText?: string;
  /** Names for the image. */
  tags?: string[];
  /** Run every step even when the cache has it (the results still become cache). */
  noCache?: boolean;
  /** --build-arg NAME=VALUE values. */
  buildArgs?: Record<string, string>;
  /** Network of RUN steps unless a step says otherwise (default none). */
  network?: 'none' | 'host';
  onEvent?: (event: BuildEvent) => void;
  signal?: AbortSignal;
}

export type BuildEvent =
  | { type: 'step'; step: number; total: number; text: string; line: number }
  | { type: 'cached'; step: number; diffId?: string }
  | { type: 'output'; step: number; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'layer'; step: number; diffId: string; size: number }
  | { type: 'warning'; message: string }
  | { type: 'commit'; names: string[] };

export interface BuildResult {
  image: ImageRecord;
  steps: number;
  /** Steps whose result came from the cache. */
  cachedSteps: number;
  /** Layers made by this build (not from the cache). */
  builtLayers: number;
}

/** A build step failed; says which step, where it is in the file, and why. */
export class BuildError extends GantryError {
  override readonly exitCode: number;

  constructor(message: string, options: { hint?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, options);
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Finds the Containerfile: -f as given, else Containerfile or Dockerfile in the context. */
function locateContainerfile(context: string, file: string | undefined): string {
  if (file !== undefined) {
    const resolved = path.resolve(file);
    if (!fs.existsSync(resolved)) throw new InvalidArgumentError(`the Containerfile ${file} does not exist`);
    return resolved;
  }
  for (const name of ['Containerfile', 'Dockerfile']) {
    const candidate = path.join(context, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new InvalidArgumentError(`there is no Containerfile or Dockerfile in ${context}`, {
    hint: 'name the file with -f, e.g. gantry build -f path/to/Containerfile .',
  });
}

function resolveContext(context: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\/|^git@/i.test(context)) {
    throw new UnsupportedError(`remote build contexts (${context}) are not supported`, {
      hint: 'check the repository out or download the archive, then build from the directory',
    });
  }
  let stats: fs.Stats;
  try {
    stats = fs.statSync(context);
  } catch {
    throw new InvalidArgumentError(
      `the build context ${context} does not exist`,
      context === '-'
        ? {
            hint: 'a context from stdin is not supported; give a directory, and `-f -` to read the Containerfile from stdin',
          }
        : {},
    );
  }
  if (!stats.isDirectory()) {
    throw new InvalidArgumentError(`the build context ${context} is not a directory`, {
      hint: 'give the directory that holds the files the Containerfile copies (often ".")',
    });
  }
  return fs.realpathSync(context);
}

function parseBuildArgs(values: Record<string, string> | undefined): Map<string, string> {
  const result = new Map<string, string>();
  for (const [name, value] of Object.entries(values ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new InvalidArgumentError(`invalid --build-arg name ${JSON.stringify(name)}`, {
        hint: 'give NAME=VALUE with a name of letters, digits and underscores',
      });
    }
    result.set(name, value);
  }
  return result;
}

interface StackState {
  layers: LayerRecord[];
  layerDirs: string[];
  history: ImageHistoryEntry[];
}

function topChainId(stack: StackState): string {
  return stack.layers.at(-1)?.chainId ?? '';
}

export async function build(engine: Engine, options: BuildOptions): Promise<BuildResult> {
  const emit = (event: BuildEvent): void => options.onEvent?.(event);
  // Everything that can be checked without running anything is checked first.
  const contextDirectory = resolveContext(options.context);
  let containerfile: Containerfile;
  if (options.containerfileText !== undefined) {
    containerfile = parseContainerfile(options.containerfileText, '<stdin>');
  } else {
    const containerfilePath = locateContainerfile(contextDirectory, options.file);
    // Named in messages as docker names it: relative to the context, or as given with -f.
    const inContext = path.relative(contextDirectory, containerfilePath);
    containerfile = parseContainerfile(
      await fsp.readFile(containerfilePath, 'utf8'),
      inContext.startsWith('..') ? (options.file ?? containerfilePath) : inContext,
    );
  }
  const tags = (options.tags ?? []).map((tag) => parseImageName(tag));
  const buildArgs = parseBuildArgs(options.buildArgs);
  const ignore = IgnoreMatcher.load(contextDirectory);
  const store = engine.images;
  const cache = new BuildCache(engine.layout);
  // What a build killed before the journal existed left: step containers nobody else removes.
  await sweepOrphanedStepContainers(engine);
  trace('build: started');
  const metadataContext: MetadataContext = {
    escape: containerfile.escape,
    buildArgs,
    usedBuildArgs: new Set(),
  };
  const total = containerfile.instructions.length;
  const platform = formatPlatform(hostPlatform());

  const where = (instruction: Instruction, step: number): string =>
    `step ${step}/${total} (${containerfile.file}:${instruction.line} ${instruction.keyword})`;
  const fail = (instruction: Instruction, step: number, error: unknown): never => {
    if (error instanceof BuildError) throw error;
    if (error instanceof GantryError) {
      throw new BuildError(`${where(instruction, step)}: ${error.message}`, {
        cause: error,
        ...(error.hint ? { hint: error.hint } : {}),
      });
    }
    throw error;
  };

  const globalState = newStageState();
  let state: StageState | undefined;
  let baseConfig: OciImageConfig | undefined;
  let baseImage: ImageRecord | undefined;
  let baseReference = 'scratch';
  const stack: StackState = { layers: [], layerDirs: [], history: [] };
  const staged = new Map<string, StagedLayer>();
  const newRecords: CacheRecord[] = [];
  let cachedSteps = 0;

  // Should this process be killed, the next gantry command removes its step containers and its
  // work directory (see containers/unfinished.ts).
  const entry = engine.journal.begin('build');
  const work = await store.createWorkDirectory('build').catch((error: unknown) => {
    entry.end();
    throw error;
  });
  try {
    for (const [index, instruction] of containerfile.instructions.entries()) {
      const step = index + 1;
      if (options.signal?.aborted) throw new BuildError('the build was cancelled', { exitCode: 130 });
      emit({
        type: 'step',
        step,
        total,
        text: `${instruction.keyword} ${instruction.original}`,
        line: instruction.line,
      });
      try {
        if (!state) {
          if (instruction.keyword === 'ARG') {
            applyMetadata(instruction, globalState, metadataContext);
            continue;
          }
          // FROM: ARGs declared before it are the only variables it sees.
          const words = expandWord(instruction.rest, substitutionVariables(globalState), containerfile.escape)
            .trim()
            .split(/\s+/);
          const reference = words[0] as string;
          if (words.length === 3 ? words[1]?.toUpperCase() !== 'AS' : words.length !== 1) {
            throw new InvalidArgumentError(
              `FROM expects IMAGE [AS NAME], got ${JSON.stringify(instruction.rest)}`,
            );
          }
          const requested = instruction.flags.get('platform');
          if (
            requested !== undefined &&
            requested !== platform &&
            requested !== formatPlatform({ ...hostPlatform(), variant: undefined })
          ) {
            throw new UnsupportedError(
              `FROM --platform=${requested}: only this host's platform (${platform}) can be built`,
            );
          }
          state = newStageState();
          state.globalArgs = new Map(globalState.args);
          if (reference !== 'scratch') {
            try {
              baseImage = await store.resolve(reference);
            } catch (error) {
              if (!(error instanceof NotFoundError)) throw error;
              throw new NotFoundError(`FROM ${reference}: the image is not in the local store`, {
                hint: `import it (gantry image import PATH ${reference}) or pull it (gantry pull ${reference}) first`,
              });
            }
            baseReference = reference;
            baseConfig = await store.readConfig(baseImage);
            state.config = structuredClone(baseConfig.config ?? {});
            stack.layers = [...baseImage.layers];
            stack.layerDirs = baseImage.layers.map((layer) => store.layerDirectory(layer.chainId));
            stack.history = [...(baseConfig.history ?? [])];
          }
          continue;
        }
        const current: StageState = state;
        const parentChainId = topChainId(stack);
        const keyBase = {
          parentChainId,
          config: structuredClone(current.config),
          args: [...current.args],
          shell: [...current.shell],
          platform,
        };
        if (
          instruction.keyword === 'RUN' ||
          instruction.keyword === 'COPY' ||
          instruction.keyword === 'ADD'
        ) {
          let text: string;
          let contentDigest: string | undefined;
          let makeLayer: () => Promise<StagedLayer>;
          if (instruction.keyword === 'RUN') {
            const argv = instruction.json ?? [...current.shell, instruction.rest];
            const networkFlag = instruction.flags.get('network');
            if (networkFlag !== undefined && !['none', 'host', 'default'].includes(networkFlag)) {
              throw new InvalidArgumentError(
                `RUN --network=${networkFlag}: accepted are none, host and default`,
              );
            }
            const network =
              networkFlag === 'host' ? 'host' : networkFlag === 'none' ? 'none' : (options.network ?? 'none');
            text = `RUN ${network === 'none' ? '' : `--network=${network} `}${instruction.json ? JSON.stringify(argv) : argv.join(' ')}`;
            makeLayer = () =>
              runStep(
                engine,
                {
                  argv,
                  env: runEnvironment(current),
                  config: current.config,
                  layerDirs: stack.layerDirs.length > 0 ? stack.layerDirs : [emptyLower(work.path)],
                  baseImage,
                  baseReference,
                  network,
                  onOutput: (stream, output) => emit({ type: 'output', step, stream, text: output }),
                  ...(options.signal ? { signal: options.signal } : {}),
                },
                async (result) => {
                  if (options.signal?.aborted)
                    throw new BuildError('the build was cancelled', { exitCode: 130 });
                  if (result.exitCode !== 0) {
                    throw new BuildError(
                      `${where(instruction, step)}: the command ${JSON.stringify(argv.join(' '))} returned a non-zero code: ${result.exitCode}`,
                      { hint: 'fix the command; nothing of this build was kept' },
                    );
                  }
                  return stageLayer(
                    work,
                    parentChainId || undefined,
                    async (writer) => {
                      await writeUpperLayer(writer, result.upper, stack.layerDirs, {
                        mountpoints: result.mountpoints,
                      });
                    },
                    { label: `the layer of step ${step}` },
                  );
                },
              );
          } else {
            const plan = await planCopy(instruction, {
              contextDirectory,
              ignore,
              stack: new StackView(stack.layerDirs),
              workingDir: current.config.WorkingDir || '/',
              variables: substitutionVariables(current),
              escape: containerfile.escape,
            });
            text = plan.text;
            contentDigest = plan.contentDigest;
            makeLayer = () =>
              stageLayer(work, parentChainId || undefined, (writer) => plan.write(writer), {
                label: `the layer of step ${step}`,
              });
          }
          const key = stepKey({ ...keyBase, instruction: text, ...(contentDigest ? { contentDigest } : {}) });
          const hit = options.noCache ? undefined : await cache.lookup(key);
          if (hit?.layer) {
            stack.layers.push(hit.layer);
            stack.layerDirs.push(store.layerDirectory(hit.layer.chainId));
            stack.history.push(hit.history);
            cachedSteps += 1;
            emit({ type: 'cached', step, diffId: hit.layer.diffId });
            continue;
          }
          const layer = await makeLayer();
          trace('build: layer staged');
          staged.set(layer.record.chainId, layer);
          const history: ImageHistoryEntry = {
            created: new Date().toISOString(),
            created_by: text,
            comment: BUILD_HISTORY_COMMENT,
          };
          stack.layers.push(layer.record);
          stack.layerDirs.push(path.join(layer.directory, 'diff'));
          stack.history.push(history);
          newRecords.push({ version: 1, key, parentChainId, history, layer: layer.record });
          emit({ type: 'layer', step, diffId: layer.record.diffId, size: layer.record.size });
          continue;
        }
        if (instruction.keyword === 'FROM') continue; // a second FROM is refused by the parser
        const createdBy = applyMetadata(instruction, current, metadataContext);
        const key = stepKey({ ...keyBase, instruction: createdBy });
        const hit = options.noCache ? undefined : await cache.lookup(key);
        if (hit && !hit.layer) {
          stack.history.push(hit.history);
          cachedSteps += 1;
          emit({ type: 'cached', step });
          continue;
        }
        const history: ImageHistoryEntry = {
          created: new Date().toISOString(),
          created_by: createdBy,
          comment: BUILD_HISTORY_COMMENT,
          empty_layer: true,
        };
        stack.history.push(history);
        newRecords.push({ version: 1, key, parentChainId, history });
      } catch (error) {
        fail(instruction, step, error);
      }
    }
    if (!state) throw new BuildError(`${containerfile.file}: there is no FROM instruction`);
    const unused = [...buildArgs.keys()].filter((name) => !metadataContext.usedBuildArgs.has(name));
    if (unused.length > 0) {
      emit({ type: 'warning', message: `one or more build args were not consumed: ${unused.join(', ')}` });
    }

    const host = hostPlatform();
    const config: OciImageConfig = {
      created: stack.history.at(-1)?.created ?? new Date().toISOString(),
      architecture: baseConfig?.architecture ?? host.architecture,
      os: baseConfig?.os ?? 'linux',
      ...(baseConfig?.variant
        ? { variant: baseConfig.variant }
        : !baseConfig && host.variant
          ? { variant: host.variant }
          : {}),
      ...((state.author ?? baseConfig?.author) ? { author: state.author ?? baseConfig?.author } : {}),
      config: state.config,
      rootfs: { type: 'layers', diff_ids: stack.layers.map((layer) => layer.diffId) },
      history: stack.history,
    };
    emit({ type: 'commit', names: tags });
    trace('build: committing');
    const image = await store.addImage(work, { config, layers: stack.layers, staged, names: tags });
    trace('build: committed');
    await cache.save(newRecords);
    trace('build: cache saved');
    return { image, steps: total, cachedSteps, builtLayers: staged.size };
  } finally {
    await work.dispose();
    entry.end();
  }
}

function emptyLower(workDirectory: string): string {
  const directory = path.join(workDirectory, 'empty-lower');
  fs.mkdirSync(directory, { recursive: true, mode: 0o755 });
  return directory;
}
