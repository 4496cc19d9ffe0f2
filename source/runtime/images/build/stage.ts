/**
 * Runs one stage of a build: its FROM (an image of the store, scratch, or an earlier stage),
 * then each instruction in order. RUN runs in a container on the layers so far, COPY/ADD write a
 * layer from the context (or, with --from, from an earlier stage or an image), the rest change the
 * config. Every step asks the build cache first. What a stage makes is staged in the build's work
 * directory; the builder commits only the target stage's image.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from '../../containers/engine.js';
import { GantryError, InvalidArgumentError, NotFoundError } from '../../errors.js';
import { StackView } from '../diff/stack-view.js';
import { writeUpperLayer } from '../commit/upper-tar.js';
import { stageLayer, type StagedLayer } from '../commit/stage-layer.js';
import type { ImageStore } from '../store.js';
import type { WorkDirectory } from '../work-directory.js';
import type { ImageHistoryEntry, ImageRecord, LayerRecord, OciImageConfig } from '../types.js';
import { stepKey, type BuildCache, type CacheRecord } from './cache.js';
import { parseContainerfile, type Containerfile, type Instruction } from './containerfile.js';
import { planCopy, type CopyPlan } from './copy.js';
import { planCopyFrom } from './copy-from.js';
import type { IgnoreMatcher } from './ignore.js';
import {
  applyMetadata,
  newStageState,
  runEnvironment,
  substitutionVariables,
  type MetadataContext,
  type StageState,
} from './metadata.js';
import { trace } from '../../trace.js';
import { heredocCommand, prepareRunMounts } from './run-mounts.js';
import { runStep } from './run-step.js';
import { findStage, fromReference, type Stage } from './stages.js';
import { expandWord } from './words.js';
import { BuildError, BUILD_HISTORY_COMMENT, type BuildEvent, type BuildOptions } from './types.js';

export interface StackState {
  layers: LayerRecord[];
  layerDirs: string[];
  history: ImageHistoryEntry[];
}

/** What a finished stage is: the base of a later `FROM stage`, the source of `COPY --from`. */
export interface StageResult {
  stage: Stage;
  state: StageState;
  stack: StackState;
  /** The image config the stage started from (architecture, os, author); undefined for scratch. */
  baseConfig: OciImageConfig | undefined;
  /** The store image at the bottom of the stage (for step containers); undefined for scratch. */
  baseImage: ImageRecord | undefined;
  baseReference: string;
  /** The base image's ONBUILD triggers, run right after FROM. */
  triggers?: string[];
}

/** What every stage of one build shares. */
export interface BuildSession {
  engine: Engine;
  options: BuildOptions;
  containerfile: Containerfile;
  contextDirectory: string;
  ignore: IgnoreMatcher;
  store: ImageStore;
  cache: BuildCache;
  work: WorkDirectory;
  metadataContext: MetadataContext;
  /** ARGs declared before the first FROM, with their values. */
  globalState: StageState;
  platform: string;
  stages: readonly Stage[];
  /** Finished stages by index. */
  results: Map<number, StageResult>;
  /** Layers made by this build, by ChainID. */
  staged: Map<string, StagedLayer>;
  newRecords: CacheRecord[];
  cachedSteps: number;
  emit(event: BuildEvent): void;
}

function topChainId(stack: StackState): string {
  return stack.layers.at(-1)?.chainId ?? '';
}

function emptyLower(workDirectory: string): string {
  const directory = path.join(workDirectory, 'empty-lower');
  fs.mkdirSync(directory, { recursive: true, mode: 0o755 });
  return directory;
}

/** Starts a stage: FROM an earlier stage, an image of the store, or scratch. */
async function startStage(session: BuildSession, stage: Stage): Promise<StageResult> {
  const { store } = session;
  const state = newStageState();
  state.globalArgs = new Map(session.globalState.args);
  const result: StageResult = {
    stage,
    state,
    stack: { layers: [], layerDirs: [], history: [] },
    baseConfig: undefined,
    baseImage: undefined,
    baseReference: 'scratch',
  };
  const reference = fromReference(
    stage,
    substitutionVariables(session.globalState),
    session.containerfile.escape,
  );
  const earlier = findStage(session.stages, reference, stage.index);
  if (earlier) {
    const base = session.results.get(earlier.index);
    if (!base) throw new BuildError(`FROM ${reference}: the stage was not built`);
    state.config = structuredClone(base.state.config);
    state.shell = [...base.state.shell];
    if (base.state.author !== undefined) state.author = base.state.author;
    result.stack = {
      layers: [...base.stack.layers],
      layerDirs: [...base.stack.layerDirs],
      history: [...base.stack.history],
    };
    result.baseConfig = base.baseConfig;
    result.baseImage = base.baseImage;
    result.baseReference = base.baseReference;
    return result;
  }
  if (reference === 'scratch') return result;
  let image: ImageRecord;
  try {
    image = await store.resolve(reference);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    throw new NotFoundError(`FROM ${reference}: the image is not in the local store`, {
      hint: `import it (gantry image import PATH ${reference}) or pull it (gantry pull ${reference}) first`,
    });
  }
  const config = await store.readConfig(image);
  state.config = structuredClone(config.config ?? {});
  if (state.config.Shell && state.config.Shell.length > 0) state.shell = [...state.config.Shell];
  // The base's ONBUILD triggers run now, in this build; they are not passed on (docker's rule).
  result.triggers = state.config.OnBuild ?? [];
  delete state.config.OnBuild;
  result.baseImage = image;
  result.baseReference = reference;
  result.baseConfig = config;
  result.stack = {
    layers: [...image.layers],
    layerDirs: image.layers.map((layer) => store.layerDirectory(layer.chainId)),
    history: [...(config.history ?? [])],
  };
  return result;
}

/** The layer directories of `COPY --from=VALUE`: an earlier stage, else an image of the store. */
async function copySource(
  session: BuildSession,
  stage: Stage,
  value: string,
): Promise<{ label: string; layerDirs: string[] }> {
  const earlier = findStage(session.stages, value, stage.index);
  if (earlier) {
    const result = session.results.get(earlier.index);
    if (!result) throw new BuildError(`--from=${value}: the stage was not built`);
    return { label: `stage ${earlier.name ?? String(earlier.index)}`, layerDirs: result.stack.layerDirs };
  }
  let image: ImageRecord;
  try {
    image = await session.store.resolve(value);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    throw new NotFoundError(`--from=${value}: no stage of that name and no such image in the local store`, {
      hint: `name a stage defined above (FROM IMAGE AS NAME), or pull the image first (gantry pull ${value})`,
    });
  }
  return {
    label: `image ${value}`,
    layerDirs: image.layers.map((layer) => session.store.layerDirectory(layer.chainId)),
  };
}

export async function runStage(session: BuildSession, stage: Stage): Promise<StageResult> {
  const { engine, options, store, cache, work, containerfile } = session;
  let total = stage.instructions.length + 1;
  const prefix = session.stages.length > 1 ? `[${stage.index + 1}/${session.stages.length}] ` : '';
  const where = (instruction: Instruction, step: number): string =>
    `${prefix}step ${step}/${total} (${containerfile.file}:${instruction.line} ${instruction.keyword})`;
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
  const announce = (instruction: Instruction, step: number): void =>
    session.emit({
      type: 'step',
      step,
      total,
      text: `${instruction.keyword} ${instruction.original}`,
      line: instruction.line,
      prefix,
    });

  announce(stage.from, 1);
  let result: StageResult;
  let triggers: Instruction[];
  try {
    result = await startStage(session, stage);
    triggers = (result.triggers ?? []).map((trigger) => ({
      ...(parseContainerfile(`FROM scratch\n${trigger}`, 'ONBUILD').instructions[1] as Instruction),
      line: stage.from.line,
    }));
  } catch (error) {
    return fail(stage.from, 1, error);
  }
  const { state: current, stack } = result;
  total += triggers.length;
  if (triggers.length > 0) {
    session.emit({
      type: 'warning',
      message: `${prefix}executing ${triggers.length} build trigger${triggers.length === 1 ? '' : 's'} of ${result.baseReference}`,
    });
  }

  for (const [index, instruction] of [...triggers, ...stage.instructions].entries()) {
    const step = index + 2;
    if (options.signal?.aborted) throw new BuildError('the build was cancelled', { exitCode: 130 });
    announce(instruction, step);
    try {
      const parentChainId = topChainId(stack);
      const keyBase = {
        parentChainId,
        config: structuredClone(current.config),
        args: [...current.args],
        shell: [...current.shell],
        platform: session.platform,
      };
      if (instruction.keyword === 'RUN' || instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
        let text: string;
        let contentDigest: string | undefined;
        let makeLayer: () => Promise<StagedLayer>;
        if (instruction.keyword === 'RUN') {
          const heredoc = instruction.heredocs ? heredocCommand(instruction, current.shell) : undefined;
          const argv = heredoc?.argv ?? instruction.json ?? [...current.shell, instruction.rest];
          const runMounts = prepareRunMounts(instruction, {
            layout: engine.layout,
            contextDirectory: session.contextDirectory,
            workDirectory: work.path,
            ...(heredoc?.script ? { script: heredoc.script } : {}),
          });
          contentDigest = runMounts.contentDigest;
          const mountFlags = (instruction.mounts ?? []).map((mount) => `--mount=${mount} `).join('');
          const networkFlag = instruction.flags.get('network');
          if (networkFlag !== undefined && !['none', 'host', 'default'].includes(networkFlag)) {
            throw new InvalidArgumentError(
              `RUN --network=${networkFlag}: accepted are none, host and default`,
            );
          }
          const network =
            networkFlag === 'host' ? 'host' : networkFlag === 'none' ? 'none' : (options.network ?? 'none');
          text = `RUN ${mountFlags}${network === 'none' ? '' : `--network=${network} `}${instruction.json ? JSON.stringify(argv) : argv.join(' ')}`;
          const layerDirs = stack.layerDirs.length > 0 ? [...stack.layerDirs] : [emptyLower(work.path)];
          makeLayer = () =>
            runStep(
              engine,
              {
                argv,
                env: runEnvironment(current),
                config: current.config,
                layerDirs,
                baseImage: result.baseImage,
                baseReference: result.baseReference,
                network,
                mounts: runMounts.mounts,
                ...(options.ulimits ? { ulimits: options.ulimits } : {}),
                onOutput: (stream, output) => session.emit({ type: 'output', step, stream, text: output }),
                ...(options.signal ? { signal: options.signal } : {}),
              },
              async (ran) => {
                if (options.signal?.aborted)
                  throw new BuildError('the build was cancelled', { exitCode: 130 });
                if (ran.exitCode !== 0) {
                  throw new BuildError(
                    `${where(instruction, step)}: the command ${JSON.stringify(argv.join(' '))} returned a non-zero code: ${ran.exitCode}`,
                    { hint: 'fix the command; nothing of this build was kept' },
                  );
                }
                return stageLayer(
                  work,
                  parentChainId || undefined,
                  async (writer) => {
                    await writeUpperLayer(writer, ran.upper, stack.layerDirs, {
                      mountpoints: ran.mountpoints,
                    });
                  },
                  { label: `the layer of step ${step}` },
                );
              },
            );
        } else {
          const from = instruction.flags.get('from');
          const copyContext = {
            stack: new StackView(stack.layerDirs),
            workingDir: current.config.WorkingDir || '/',
            variables: substitutionVariables(current),
            escape: containerfile.escape,
          };
          let plan: CopyPlan;
          if (from !== undefined) {
            if (instruction.keyword === 'ADD') {
              throw new InvalidArgumentError('ADD does not take --from', { hint: 'use COPY --from=STAGE' });
            }
            const value = from === '' ? '' : fromValue(from, session);
            if (value === '')
              throw new InvalidArgumentError('COPY --from needs a stage name, index or image');
            const source = await copySource(session, stage, value);
            plan = await planCopyFrom(instruction, {
              ...copyContext,
              fromValue: value,
              sourceLabel: source.label,
              source: new StackView(source.layerDirs),
            });
          } else {
            plan = await planCopy(instruction, {
              ...copyContext,
              contextDirectory: session.contextDirectory,
              ignore: session.ignore,
              downloadDirectory: path.join(work.path, 'downloads'),
              ...(options.signal ? { signal: options.signal } : {}),
            });
          }
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
          session.cachedSteps += 1;
          session.emit({ type: 'cached', step, diffId: hit.layer.diffId });
          continue;
        }
        const layer = await makeLayer();
        trace('build: layer staged');
        session.staged.set(layer.record.chainId, layer);
        const history: ImageHistoryEntry = {
          created: new Date().toISOString(),
          created_by: text,
          comment: BUILD_HISTORY_COMMENT,
        };
        stack.layers.push(layer.record);
        stack.layerDirs.push(path.join(layer.directory, 'diff'));
        stack.history.push(history);
        session.newRecords.push({ version: 1, key, parentChainId, history, layer: layer.record });
        session.emit({ type: 'layer', step, diffId: layer.record.diffId, size: layer.record.size });
        continue;
      }
      const createdBy = applyMetadata(instruction, current, session.metadataContext);
      const key = stepKey({ ...keyBase, instruction: createdBy });
      const hit = options.noCache ? undefined : await cache.lookup(key);
      if (hit && !hit.layer) {
        stack.history.push(hit.history);
        session.cachedSteps += 1;
        session.emit({ type: 'cached', step });
        continue;
      }
      const history: ImageHistoryEntry = {
        created: new Date().toISOString(),
        created_by: createdBy,
        comment: BUILD_HISTORY_COMMENT,
        empty_layer: true,
      };
      stack.history.push(history);
      session.newRecords.push({ version: 1, key, parentChainId, history });
    } catch (error) {
      fail(instruction, step, error);
    }
  }
  return result;
}

/** `--from` may use the global ARGs (`COPY --from=${BASE}`), as BuildKit allows. */
export function fromValue(
  value: string,
  session: Pick<BuildSession, 'globalState' | 'containerfile'>,
): string {
  return expandWord(value, substitutionVariables(session.globalState), session.containerfile.escape).trim();
}
