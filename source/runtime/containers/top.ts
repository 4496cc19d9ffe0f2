/**
 * `top`: the container's processes as the host's ps sees them, docker's way: run `ps` with the
 * caller's options (default -ef: UID PID PPID C STIME TTY TIME CMD) and keep the rows whose PID
 * is in the container's cgroup. ps runs on the host, never in the container (nothing of the
 * container is executed).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ConflictError, GantryError, InvalidArgumentError } from '../errors.js';
import type { EngineCore } from './core.js';
import type { ContainerRecord } from './record.js';

/** docker's ContainerTopOKBody. */
export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** Splits ps output into titles and rows; the last column (the command) keeps its spaces. */
export function parsePsOutput(output: string): TopResult {
  const lines = output.split('\n').filter((line) => line.trim() !== '');
  const Titles = (lines[0] ?? '').trim().split(/\s+/);
  const Processes = lines.slice(1).map((line) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length <= Titles.length) return fields;
    return [...fields.slice(0, Titles.length - 1), fields.slice(Titles.length - 1).join(' ')];
  });
  return { Titles, Processes };
}

/** Keeps the rows whose PID is one of `pids` (docker: an error when ps printed no PID column). */
export function filterTop(result: TopResult, pids: ReadonlySet<number>): TopResult {
  const column = result.Titles.indexOf('PID');
  if (column < 0) {
    throw new InvalidArgumentError("couldn't find PID field in ps output", {
      hint: 'give ps options that print a PID column, e.g. -ef or -o pid,comm',
    });
  }
  return {
    Titles: result.Titles,
    Processes: result.Processes.filter((row) => pids.has(Number(row[column]))),
  };
}

export async function topContainer(
  core: EngineCore,
  record: ContainerRecord,
  psArgs: readonly string[],
): Promise<TopResult> {
  if (record.State.Status !== 'running' && record.State.Status !== 'paused')
    throw new ConflictError(`container ${record.Name} is not running`);
  const args = psArgs.length > 0 ? [...psArgs] : ['-ef'];
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('ps', args, { maxBuffer: 64 * 1024 * 1024 }));
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new GantryError(`ps ${args.join(' ')} failed: ${stderr || (error as Error).message}`, {
      hint: "the options after the container go to the host's ps (procps), e.g. `gantry top web -o pid,user,args`",
      cause: error,
    });
  }
  const pids = new Set(await core.cgroup(record).pids());
  return filterTop(parsePsOutput(stdout), pids);
}
