/**
 * `gantry build`: runs a Containerfile against a build context. FROM takes an image from the
 * store, scratch, or an earlier stage; RUN runs in a real container of the runtime on the layers
 * built so far and its writable layer becomes the step's layer; COPY/ADD write a layer from the
 * context or (--from) from an earlier stage or an image; the other instructions change the config
 * (empty_layer history entries). Each step first asks the build cache (cache.ts) and reuses the
 * layer it finds, which is what makes a rebuild after a late change, or a second image on the
 * same base, bake only what is new. The stages run in stage.ts; this file checks the input,
 * chooses the stages the target needs and commits the target's image.
 *
 * New layers are staged in a private work directory and committed with the image in one step
 * at the end, so a failed or interrupted build leaves no image, no tag, no layer and no cache
 * record behind; the containers it ran are removed as each step ends. Layers of stages other
 * than the target are discarded with the work directory.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Engine } from '../../containers/engine.js';
import { InvalidArgumentError, UnsupportedError } from '../../errors.js';
import { formatPlatform, hostPlatform } from '../import/platform.js';
import { parseImageName } from '../reference.js';
import type { OciImageConfig } from '../types.js';
import { BuildCache } from './cache.js';
import { parseContainerfile, type Containerfile } from './containerfile.js';
import { IgnoreMatcher } from './ignore.js';
import { applyMetadata, newStageState, type MetadataContext } from './metadata.js';
import { trace } from '../../trace.js';
import { sweepOrphanedStepContainers } from './run-step.js';
import { runStage, fromValue, type BuildSession } from './stage.js';
import { findStage, fromReference, neededStages, splitStages, targetStage, type Stage } from './stages.js';
import { substitutionVariables } from './metadata.js';
import { BuildError, type BuildOptions, type BuildResult } from './types.js';

export { BuildError, BUILD_HISTORY_COMMENT } from './types.js';
export type { BuildEvent, BuildOptions, BuildResult } from './types.js';

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
    throw new InvalidArgumentError(`the build context ${context} does not exist`);
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

/**
 * The platform ARGs BuildKit defines before the first FROM (`FROM --platform=$BUILDPLATFORM`);
 * the build and target platforms are both this host's.
 */
function platformArgs(): Map<string, string> {
  const host = hostPlatform();
  const values = new Map<string, string>();
  for (const side of ['BUILD', 'TARGET']) {
    values.set(`${side}PLATFORM`, formatPlatform(host));
    values.set(`${side}OS`, host.os);
    values.set(`${side}ARCH`, host.architecture);
    values.set(`${side}VARIANT`, host.variant ?? '');
  }
  return values;
}

/** Stages a stage uses directly: the one it starts from and those it copies from. */
function stageDependencies(session: BuildSession, stage: Stage): Stage[] {
  const used: Stage[] = [];
  const variables = substitutionVariables(session.globalState);
  const base = findStage(
    session.stages,
    fromReference(stage, variables, session.containerfile.escape),
    stage.index,
  );
  if (base) used.push(base);
  for (const instruction of stage.instructions) {
    const from = instruction.keyword === 'COPY' ? instruction.flags.get('from') : undefined;
    if (from === undefined || from === '') continue;
    const source = findStage(session.stages, fromValue(from, session), stage.index);
    if (source) used.push(source);
  }
  return used;
}

function checkPlatform(stage: Stage, platform: string, file: string): void {
  const requested = stage.from.flags.get('platform');
  if (requested === undefined) return;
  const variables = new Map([...platformArgs()]);
  const value = requested.replace(/\$\{?([A-Z]+)\}?/g, (whole, name: string) => variables.get(name) ?? whole);
  if (value !== platform && value !== formatPlatform({ ...hostPlatform(), variant: undefined })) {
    throw new UnsupportedError(
      `${file}:${stage.from.line}: FROM --platform=${requested}: only this host's platform (${platform}) can be built`,
      { hint: `leave --platform out, or give ${platform}` },
    );
  }
}

/**
 * Builds from `options.context`; `-` takes the context (a tar) or the Containerfile from
 * `options.contextStream`, as docker's `build -` does.
 */
export async function build(engine: Engine, options: BuildOptions): Promise<BuildResult> {
  if (options.context !== '-') return buildFromDirectory(engine, options);
  if (options.containerfileText !== undefined) {
    throw new InvalidArgumentError('the build context and the Containerfile cannot both come from stdin', {
      hint: 'put the Containerfile in the tar on stdin, or give a context directory with -f -',
    });
  }
  if (!options.contextStream)
    throw new InvalidArgumentError('build -: there is no stdin to read the context from');
  const { readStdinContext } = await import('./stdin-context.js');
  const stdin = await readStdinContext(engine.images, options.contextStream);
  try {
    let file: string | undefined;
    if (options.file !== undefined) {
      // With a context on stdin, -f names a file inside it (docker's rule).
      const relative = path.posix.normalize(options.file.replace(/^\/+/, ''));
      if (stdin.containerfileText !== undefined || relative === '..' || relative.startsWith('../')) {
        throw new InvalidArgumentError(`-f ${options.file}: no such file in the build context on stdin`, {
          hint: 'with `build -`, -f names a file inside the tar on stdin',
        });
      }
      file = path.join(stdin.directory, relative);
    }
    return await buildFromDirectory(engine, {
      ...options,
      context: stdin.directory,
      ...(stdin.containerfileText !== undefined ? { containerfileText: stdin.containerfileText } : {}),
      ...(file !== undefined ? { file } : {}),
    });
  } finally {
    await stdin.work.dispose();
  }
}

async function buildFromDirectory(engine: Engine, options: BuildOptions): Promise<BuildResult> {
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
  const { globalArgs, stages } = splitStages(containerfile);
  const platform = formatPlatform(hostPlatform());
  const metadataContext: MetadataContext = {
    escape: containerfile.escape,
    buildArgs,
    usedBuildArgs: new Set(),
  };
  const globalState = newStageState();
  for (const [name, value] of platformArgs()) globalState.args.set(name, value);
  for (const instruction of globalArgs) applyMetadata(instruction, globalState, metadataContext);
  if (
    options.platform !== undefined &&
    options.platform !== platform &&
    options.platform !== formatPlatform({ ...hostPlatform(), variant: undefined })
  ) {
    throw new UnsupportedError(
      `--platform ${options.platform}: only this host's platform (${platform}) can be built`,
      {
        hint: `leave --platform out, or give ${platform}`,
      },
    );
  }
  const labels: Record<string, string> = {};
  for (const label of options.labels ?? []) {
    const equals = label.indexOf('=');
    if (equals <= 0) {
      throw new InvalidArgumentError(`invalid --label ${JSON.stringify(label)}: expected KEY=VALUE`);
    }
    labels[label.slice(0, equals)] = label.slice(equals + 1);
  }
  const target = targetStage(stages, options.target);
  for (const stage of stages) checkPlatform(stage, platform, containerfile.file);

  const store = engine.images;
  const partial = {
    engine,
    options,
    containerfile,
    contextDirectory,
    ignore: IgnoreMatcher.load(contextDirectory),
    store,
    cache: new BuildCache(engine.layout),
    metadataContext,
    globalState,
    platform,
    stages,
    results: new Map(),
    staged: new Map(),
    newRecords: [],
    cachedSteps: 0,
    emit: (event) => options.onEvent?.(event),
  } satisfies Omit<BuildSession, 'work'>;
  // Stage dependencies only read the file and the ARGs, so they are known before anything runs.
  const planned = neededStages(stages, target, (stage) =>
    stageDependencies({ ...partial, work: undefined as never }, stage),
  );

  // What a build killed before the journal existed left: step containers nobody else removes.
  await sweepOrphanedStepContainers(engine);
  trace('build: started');
  // Should this process be killed, the next gantry command removes its step containers and its
  // work directory (see containers/unfinished.ts).
  const entry = engine.journal.begin('build');
  const work = await store.createWorkDirectory('build').catch((error: unknown) => {
    entry.end();
    throw error;
  });
  const session: BuildSession = { ...partial, work };
  try {
    for (const stage of planned) {
      if (options.signal?.aborted) throw new BuildError('the build was cancelled', { exitCode: 130 });
      session.results.set(stage.index, await runStage(session, stage));
    }
    const unused = [...buildArgs.keys()].filter((name) => !metadataContext.usedBuildArgs.has(name));
    if (unused.length > 0) {
      session.emit({
        type: 'warning',
        message: `one or more build args were not consumed: ${unused.join(', ')}`,
      });
    }
    const { state, stack, baseConfig } = session.results.get(target.index)!;
    if (Object.keys(labels).length > 0) state.config.Labels = { ...(state.config.Labels ?? {}), ...labels };
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
    session.emit({ type: 'commit', names: tags });
    trace('build: committing');
    const targetLayers = new Set(stack.layers.map((layer) => layer.chainId));
    const staged = new Map([...session.staged].filter(([chainId]) => targetLayers.has(chainId)));
    const image = await store.addImage(work, { config, layers: stack.layers, staged, names: tags });
    trace('build: committed');
    // Records of the other stages' layers would point at layers that were not kept.
    await session.cache.save(
      session.newRecords.filter((record) => !record.layer || targetLayers.has(record.layer.chainId)),
    );
    trace('build: cache saved');
    const steps = planned.reduce((total, stage) => total + stage.instructions.length + 1, 0);
    return { image, steps, cachedSteps: session.cachedSteps, builtLayers: staged.size };
  } finally {
    await work.dispose();
    entry.end();
  }
}
