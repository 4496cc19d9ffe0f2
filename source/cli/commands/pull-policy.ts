/**
 * `run` and `create --pull=always|missing|never` (docker's default: missing): the image is
 * looked up in the store first, and only a pull that is really needed loads the registry client.
 * The pull's progress goes to stderr, as docker's does, so stdout keeps only the container's id
 * (create, run -d) or its output.
 */
import { bool, str, type OptionSpec, type OptionValues } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { InvalidArgumentError, NotFoundError, UnsupportedError } from '../../runtime/errors.js';

export const PULL_OPTIONS: OptionSpec[] = [
  {
    name: 'pull',
    type: 'string',
    placeholder: 'string',
    description: 'Pull image before running ("always", "missing", "never") (default "missing")',
  },
  { name: 'quiet', short: 'q', type: 'boolean', description: 'Suppress the pull output' },
];

export type PullPolicy = 'always' | 'missing' | 'never';

/** The --pull value, checked as docker checks it (before anything is pulled or created). */
export function pullPolicy(options: OptionValues): PullPolicy {
  const value = str(options, 'pull') ?? 'missing';
  if (value === 'always' || value === 'missing' || value === 'never' || value === '')
    return value === '' ? 'missing' : value;
  throw new InvalidArgumentError(
    `invalid pull option: '${value}': must be one of "always", "missing" or "never"`,
  );
}

/** An image ID (full, `sha256:` or not) is never pulled: a registry knows images by name. */
function isImageId(reference: string): boolean {
  return /^(sha256:)?[0-9a-f]{64}$/.test(reference);
}

/** docker's familiar form in its messages: `busybox` is `busybox:latest`. */
export function familiarReference(reference: string): string {
  if (isImageId(reference)) return reference;
  const last = reference.slice(reference.lastIndexOf('/') + 1);
  return last.includes(':') || last.includes('@') ? reference : `${reference}:latest`;
}

/**
 * Makes sure `reference` is in the store under `policy`: `always` pulls, `missing` pulls when the
 * store has no such image, `never` fails with docker's "No such image". A remote host (--host)
 * resolves the image on its side.
 */
export async function ensureImage(
  context: CommandContext,
  reference: string,
  options: OptionValues,
): Promise<void> {
  const policy = pullPolicy(options);
  const quiet = bool(options, 'quiet');
  if (context.host !== undefined) {
    if (policy === 'always')
      throw new UnsupportedError(
        `--pull always does not work on a remote host yet (--host ${context.host})`,
        {
          hint: 'pull the image on that host first, then create the container with --pull missing',
        },
      );
    return;
  }
  const engine = await context.engine();
  if (policy !== 'always') {
    const present = await engine.images.resolve(reference).then(
      () => true,
      (error: unknown) => {
        if (error instanceof NotFoundError) return false;
        throw error;
      },
    );
    if (present) return;
    if (policy === 'never' || isImageId(reference)) {
      throw new NotFoundError(`No such image: ${familiarReference(reference)}`, {
        hint:
          policy === 'never'
            ? 'pull it first (`gantry pull`), or leave --pull at "missing" to pull it now'
            : 'list the images with "gantry image ls"',
      });
    }
    if (!quiet) write(context.stderr, `Unable to find image '${familiarReference(reference)}' locally`);
  }
  const [{ pullWithProgress }, { authFileLocation }] = await Promise.all([
    import('./pull.js'),
    import('../../runtime/images/registry/auth-file.js'),
  ]);
  await pullWithProgress(engine, reference, {
    authFile: authFileLocation(context.engineOptions.root, undefined),
    progress: quiet ? undefined : context.stderr,
  });
}
