/**
 * What a RUN step mounts besides its layers: `RUN --mount=type=cache|bind|tmpfs` (BuildKit's
 * syntax) and the script of a here-document that starts with `#!`. Each becomes a docker-style
 * `--mount` of the step container, so the engine's own mount code (targets resolved inside the
 * container's root) applies them, and nothing mounted is part of the step's layer.
 *
 * - cache: a directory under the state root (`<root>/build-mounts/cache/<sha256 of id>`, the id
 *   defaulting to the target), kept across builds and shared by every build that names the same
 *   id, created with the given mode/uid/gid. Gantry never reads what a step leaves there.
 * - bind: a path of the build context (nothing outside it, symlinks resolved inside it), read-only
 *   unless `rw`, in which case the step writes to a private copy that is thrown away (BuildKit's
 *   rule: writes never reach the context). `from=` is not supported.
 * - tmpfs: a fresh tmpfs (`size=`).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, UnsupportedError } from '../../errors.js';
import type { StateLayout } from '../../paths.js';
import type { Heredoc, Instruction } from './containerfile.js';

export interface RunMounts {
  /** docker `--mount` values for the step container. */
  mounts: string[];
  /** Goes into the step's cache key: what the bind mounts showed the step. */
  contentDigest?: string;
}

function fields(value: string, instruction: Instruction): Map<string, string> {
  const result = new Map<string, string>();
  for (const part of value.split(',')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    const key = (equals < 0 ? part : part.slice(0, equals)).toLowerCase();
    result.set(key, equals < 0 ? 'true' : part.slice(equals + 1));
  }
  if (!result.has('target') && !result.has('dst') && !result.has('destination')) {
    throw new InvalidArgumentError(`RUN --mount=${value}: a target is needed`, {
      hint: `e.g. --mount=type=cache,target=/root/.cache (line ${instruction.line})`,
    });
  }
  return result;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && value !== 'false';
}

/** A context path, resolved without leaving the context (as COPY resolves its sources). */
function contextPath(contextDirectory: string, source: string, mount: string): string {
  const normalized = path.posix.normalize(source.replace(/^\/+/, ''));
  if (normalized === '..' || normalized.startsWith('../')) {
    throw new InvalidArgumentError(`RUN --mount=${mount}: ${source} is outside the build context`);
  }
  let real: string;
  try {
    real = fs.realpathSync(path.join(contextDirectory, normalized));
  } catch {
    throw new InvalidArgumentError(`RUN --mount=${mount}: ${source} does not exist in the build context`);
  }
  if (real !== contextDirectory && !real.startsWith(`${contextDirectory}/`)) {
    throw new InvalidArgumentError(
      `RUN --mount=${mount}: ${source} leads outside the build context (a symlink to ${real})`,
    );
  }
  return real;
}

/** sha256 over names, types, modes and content of a context path: what the step can read. */
function treeDigest(hash: ReturnType<typeof createHash>, root: string, relative = ''): void {
  const file = path.join(root, relative);
  const stats = fs.lstatSync(file);
  hash.update(`${relative}\0${stats.mode}\0${stats.size}\n`);
  if (stats.isFile()) hash.update(fs.readFileSync(file));
  else if (stats.isSymbolicLink()) hash.update(fs.readlinkSync(file));
  else if (stats.isDirectory()) {
    for (const name of fs.readdirSync(file).sort()) treeDigest(hash, root, path.join(relative, name));
  }
}

const SIZE = /^\d+[kmg]?b?$/i;

/**
 * Turns the RUN's --mount flags (and a `#!` here-document, into `scriptDirectory`) into container
 * mounts. Directories it makes for `rw` binds and scripts go under `workDirectory`.
 */
export function prepareRunMounts(
  instruction: Instruction,
  options: { layout: StateLayout; contextDirectory: string; workDirectory: string; script?: Heredoc },
): RunMounts {
  const mounts: string[] = [];
  const digest = createHash('sha256');
  let bound = false;
  for (const value of instruction.mounts ?? []) {
    const given = fields(value, instruction);
    const type = given.get('type') ?? 'bind';
    const target = (given.get('target') ?? given.get('dst') ?? given.get('destination')) as string;
    if (!target.startsWith('/')) {
      throw new InvalidArgumentError(`RUN --mount=${value}: the target must be an absolute path`);
    }
    const readOnly = isTrue(given.get('ro')) || isTrue(given.get('readonly'));
    switch (type) {
      case 'cache': {
        const id = given.get('id') ?? target;
        const sharing = given.get('sharing') ?? 'shared';
        if (!['shared', 'private', 'locked'].includes(sharing)) {
          throw new InvalidArgumentError(
            `RUN --mount=${value}: sharing=${sharing}: accepted are shared, private, locked`,
          );
        }
        const modeText = given.get('mode') ?? '0755';
        if (!/^[0-7]{3,4}$/.test(modeText)) {
          throw new InvalidArgumentError(
            `RUN --mount=${value}: mode=${modeText}: expected an octal mode such as 0755`,
          );
        }
        const ids = ['uid', 'gid'].map((name) => {
          const text = given.get(name) ?? '0';
          if (!/^\d+$/.test(text))
            throw new InvalidArgumentError(`RUN --mount=${value}: ${name}=${text}: expected a number`);
          return Number(text);
        }) as [number, number];
        const directory = path.join(
          options.layout.root,
          'build-mounts',
          'cache',
          createHash('sha256').update(id).digest('hex'),
        );
        if (!fs.existsSync(directory)) {
          fs.mkdirSync(path.dirname(directory), { recursive: true, mode: 0o700 });
          // Made aside and renamed: a build killed here leaves no half-made cache under its name.
          const fresh = `${directory}.${process.pid}.new`;
          fs.mkdirSync(fresh, { mode: 0o700 });
          fs.chownSync(fresh, ids[0], ids[1]);
          fs.chmodSync(fresh, parseInt(modeText, 8));
          try {
            fs.renameSync(fresh, directory);
          } catch {
            fs.rmSync(fresh, { recursive: true, force: true });
          }
        }
        mounts.push(`type=bind,source=${directory},target=${target}${readOnly ? ',readonly' : ''}`);
        break;
      }
      case 'bind': {
        if (given.has('from')) {
          throw new UnsupportedError(`RUN --mount=${value}: from= is not supported`, {
            hint: 'COPY --from=STAGE what the step needs, or bind a path of the build context',
          });
        }
        const source = contextPath(
          options.contextDirectory,
          given.get('source') ?? given.get('src') ?? '.',
          value,
        );
        bound = true;
        digest.update(`${target}\0`);
        treeDigest(digest, source);
        const writable = isTrue(given.get('rw')) || isTrue(given.get('readwrite'));
        let mountSource = source;
        if (writable) {
          // The step may write, but only to a copy: the context stays as it was.
          mountSource = path.join(options.workDirectory, `bind-${mounts.length}`);
          fs.cpSync(source, mountSource, {
            recursive: true,
            verbatimSymlinks: true,
            preserveTimestamps: true,
          });
        }
        mounts.push(`type=bind,source=${mountSource},target=${target}${writable ? '' : ',readonly'}`);
        break;
      }
      case 'tmpfs': {
        const size = given.get('size');
        if (size !== undefined && !SIZE.test(size)) {
          throw new InvalidArgumentError(`RUN --mount=${value}: size=${size}: expected bytes such as 64m`);
        }
        mounts.push(`type=tmpfs,target=${target}${size ? `,tmpfs-size=${size}` : ''}`);
        break;
      }
      case 'secret':
      case 'ssh':
        throw new UnsupportedError(`RUN --mount=type=${type} is not supported`, {
          hint: 'accepted types: cache, bind, tmpfs',
        });
      default:
        throw new InvalidArgumentError(`RUN --mount=${value}: unknown type ${JSON.stringify(type)}`, {
          hint: 'accepted types: cache, bind, tmpfs',
        });
    }
  }
  if (options.script) {
    const directory = path.join(options.workDirectory, `heredoc-${instruction.line}`);
    fs.mkdirSync(directory, { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(directory, options.script.name), options.script.content, { mode: 0o755 });
    mounts.push(`type=bind,source=${directory},target=/dev/pipes,readonly`);
  }
  return { mounts, ...(bound ? { contentDigest: `sha256:${digest.digest('hex')}` } : {}) };
}

/**
 * The command of a RUN with here-documents, as BuildKit makes it: `RUN <<EOF` alone runs the body
 * with the shell (or, if it starts with `#!`, runs it as a script from /dev/pipes); anything else
 * hands the shell the command line with the bodies after it, and the shell reads them.
 */
export function heredocCommand(
  instruction: Instruction,
  shell: readonly string[],
): { argv: string[]; script?: Heredoc } {
  const documents = instruction.heredocs ?? [];
  const alone = /^<<-?(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\1$/.exec(instruction.rest.trim());
  if (alone && documents.length === 1) {
    const document = documents[0] as Heredoc;
    if (document.content.startsWith('#!')) {
      return { argv: [`/dev/pipes/${document.name}`], script: document };
    }
    return { argv: [...shell, document.content] };
  }
  const full = documents.reduce(
    (text, document) => `${text}\n${document.content}${document.name}`,
    instruction.rest,
  );
  return { argv: [...shell, full] };
}
