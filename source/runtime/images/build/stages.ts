/**
 * The stages of a multi-stage Containerfile: the ARGs before the first FROM, then one stage per
 * FROM (`FROM IMAGE [AS NAME]`). A stage can start from an earlier stage (`FROM NAME`) and copy
 * from one (`COPY --from=NAME|INDEX`); `--target NAME` builds the stage of that name and only
 * the stages it needs, as BuildKit and buildah skip the rest.
 */
import { InvalidArgumentError, NotFoundError } from '../../errors.js';
import type { Containerfile, Instruction } from './containerfile.js';
import { expandWord, type Variables } from './words.js';

export interface Stage {
  /** 0-based position among the stages of the file. */
  index: number;
  /** The `AS` name, lowercased as docker keeps it. */
  name?: string;
  from: Instruction;
  /** The instructions after FROM, up to the next FROM. */
  instructions: Instruction[];
}

export interface StagedContainerfile {
  /** ARGs before the first FROM: only FROM lines (and `ARG NAME` in a stage) see them. */
  globalArgs: Instruction[];
  stages: Stage[];
}

/** docker's rule for stage names (reference.go: `^[a-z][a-z0-9-_\.]*$`, case-insensitive). */
const STAGE_NAME = /^[a-z][a-z0-9_.-]*$/;

export function splitStages(containerfile: Containerfile): StagedContainerfile {
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const instruction of containerfile.instructions) {
    if (instruction.keyword === 'FROM') {
      stages.push({ index: stages.length, from: instruction, instructions: [] });
    } else if (stages.length === 0) {
      globalArgs.push(instruction);
    } else {
      (stages.at(-1) as Stage).instructions.push(instruction);
    }
  }
  // Names are known before anything is expanded: `AS` takes no variables in docker either.
  const seen = new Map<string, number>();
  for (const stage of stages) {
    const words = stage.from.rest.trim().split(/\s+/);
    if (words.length === 3 && words[1]?.toUpperCase() === 'AS') {
      const name = (words[2] as string).toLowerCase();
      if (!STAGE_NAME.test(name)) {
        throw new InvalidArgumentError(
          `${containerfile.file}:${stage.from.line}: invalid stage name ${JSON.stringify(words[2])}`,
          { hint: 'a stage name starts with a letter and holds letters, digits, "-", "_" and "."' },
        );
      }
      const earlier = seen.get(name);
      if (earlier !== undefined) {
        throw new InvalidArgumentError(
          `${containerfile.file}:${stage.from.line}: the stage name "${name}" is already used on line ${earlier}`,
          { hint: 'give every stage its own name' },
        );
      }
      seen.set(name, stage.from.line);
      stage.name = name;
    } else if (words.length !== 1) {
      throw new InvalidArgumentError(
        `${containerfile.file}:${stage.from.line}: FROM expects IMAGE [AS NAME], got ${JSON.stringify(stage.from.rest)}`,
      );
    }
  }
  return { globalArgs, stages };
}

/** The image reference of a FROM line, with the global ARGs substituted. */
export function fromReference(stage: Stage, variables: Variables, escape: string): string {
  const first = stage.from.rest.trim().split(/\s+/)[0] as string;
  const reference = expandWord(first, variables, escape).trim();
  if (reference === '' || /\s/.test(reference)) {
    throw new InvalidArgumentError(
      `FROM ${first}: the image name is ${reference === '' ? 'empty' : JSON.stringify(reference)} after substituting the ARGs`,
      { hint: 'declare the ARG before the first FROM, with a default or a --build-arg' },
    );
  }
  return reference;
}

/**
 * The stage a name or number refers to, among the stages before `before` (a stage can only use
 * stages above it); undefined when it names none (then it is an image).
 */
export function findStage(stages: readonly Stage[], reference: string, before: number): Stage | undefined {
  const lowered = reference.toLowerCase();
  const byName = stages.find((stage) => stage.name === lowered);
  if (byName) {
    if (byName.index >= before) {
      throw new InvalidArgumentError(`the stage "${reference}" is not defined before it is used`, {
        hint: 'a stage can use only the stages written above it',
      });
    }
    return byName;
  }
  if (/^\d+$/.test(reference)) {
    const index = Number(reference);
    if (index >= before) {
      throw new InvalidArgumentError(`--from=${reference}: there is no stage ${index} before this one`, {
        hint: `stages are numbered from 0 in the order of their FROM lines; here 0 to ${before - 1} can be used`,
      });
    }
    return stages[index];
  }
  return undefined;
}

/** The stage `--target` names (default: the last one). */
export function targetStage(stages: readonly Stage[], target: string | undefined): Stage {
  if (target === undefined) return stages.at(-1) as Stage;
  const found = stages.find((stage) => stage.name === target.toLowerCase());
  if (!found) {
    const names = stages.flatMap((stage) => (stage.name ? [stage.name] : []));
    throw new NotFoundError(`--target ${target}: there is no stage of that name`, {
      hint: names.length > 0 ? `the stages are: ${names.join(', ')}` : 'name a stage with FROM IMAGE AS NAME',
    });
  }
  return found;
}

/**
 * The stages the target needs (itself, the stages it starts from and copies from, and theirs),
 * in file order. `dependencies` gives the stages one stage uses directly.
 */
export function neededStages(
  stages: readonly Stage[],
  target: Stage,
  dependencies: (stage: Stage) => Stage[],
): Stage[] {
  const needed = new Set<number>();
  const visit = (stage: Stage): void => {
    if (needed.has(stage.index)) return;
    needed.add(stage.index);
    for (const used of dependencies(stage)) visit(used);
  };
  visit(target);
  return stages.filter((stage) => needed.has(stage.index));
}
