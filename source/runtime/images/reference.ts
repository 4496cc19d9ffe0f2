/**
 * Image references as Docker and the OCI distribution spec write them:
 * `[registry[:port]/]path[:tag][@sha256:hex]`. Names are stored in their familiar form
 * ("busybox:latest", not "docker.io/library/busybox:latest") so `image ls` reads like docker's,
 * and both spellings resolve to the same image.
 */
import { InvalidArgumentError } from '../errors.js';
import { validateUserDigest } from './digest.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_REGISTRIES = new Set(['index.docker.io', 'registry-1.docker.io']);
const MAX_NAME_LENGTH = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export interface ImageReference {
  /** Registry host (with port), "docker.io" when the reference names none. */
  registry: string;
  /** Repository path inside the registry, e.g. "library/busybox". */
  repository: string;
  /** Familiar repository name as users write it: "busybox", "localhost:5000/a/b". */
  name: string;
  tag: string | undefined;
  digest: string | undefined;
}

function invalid(input: string, reason: string, hint?: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid image reference "${input}": ${reason}`, {
    hint:
      hint ??
      'a reference is [registry[:port]/]name[:tag][@sha256:digest], e.g. busybox, busybox:1.36, localhost:5000/team/app:v1',
  });
}

/** Splits `input` into its parts without adding defaults (no tag stays no tag). */
export function parseReference(input: string): ImageReference {
  if (input === '') throw invalid(input, 'it is empty');
  if (/\s/.test(input)) throw invalid(input, 'it contains whitespace');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    try {
      digest = validateUserDigest(rest.slice(at + 1));
    } catch (error) {
      throw invalid(
        input,
        (error as Error).message,
        'a digest is "sha256:" followed by 64 lowercase hex digits',
      );
    }
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw invalid(
        input,
        `the tag "${tag}" is not valid`,
        'a tag has 1 to 128 characters from A-Z a-z 0-9 _ . - and does not start with . or -',
      );
    }
  }
  if (rest === '') throw invalid(input, 'the repository name is empty');
  if (rest.length > MAX_NAME_LENGTH) {
    throw invalid(input, `the repository name is longer than ${MAX_NAME_LENGTH} characters`);
  }

  const components = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  const first = components[0] ?? '';
  // Docker's rule: the first component is a registry only if it looks like a host name.
  const firstIsRegistry =
    components.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  if (firstIsRegistry) {
    if (!DOMAIN.test(first)) throw invalid(input, `"${first}" is not a valid registry host[:port]`);
    const port = /:(\d+)$/.exec(first)?.[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
      throw invalid(input, `the port ${port} is out of range (1 to 65535)`);
    registry = LEGACY_REGISTRIES.has(first) ? DEFAULT_REGISTRY : first;
    components.shift();
  }
  for (const component of components) {
    if (component === '')
      throw invalid(input, 'it has an empty path component (a leading, trailing or double "/")');
    if (component !== component.toLowerCase()) {
      throw invalid(input, `the repository name must be lowercase ("${component}")`);
    }
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(
        input,
        `"${component}" is not a valid name component`,
        'name components are lowercase letters and digits, separated inside by ".", "_", "__" or "-"',
      );
    }
  }

  let repository = components.join('/');
  if (registry === DEFAULT_REGISTRY && components.length === 1) repository = `library/${repository}`;
  return { registry, repository, name: familiarName(registry, repository), tag, digest };
}

function familiarName(registry: string, repository: string): string {
  if (registry !== DEFAULT_REGISTRY) return `${registry}/${repository}`;
  return repository.startsWith('library/') ? repository.slice('library/'.length) : repository;
}

/** Parses and fills in the default tag when there is neither a tag nor a digest. */
export function normalizeReference(input: string): ImageReference {
  const reference = parseReference(input);
  if (reference.tag === undefined && reference.digest === undefined) reference.tag = DEFAULT_TAG;
  return reference;
}

/** "name:tag", "name@digest" or "name:tag@digest". */
export function formatReference(reference: ImageReference): string {
  let text = reference.name;
  if (reference.tag !== undefined) text += `:${reference.tag}`;
  if (reference.digest !== undefined) text += `@${reference.digest}`;
  return text;
}

/**
 * A name an image can carry (`name:tag`): what `tag` and `import --name` accept. A digest names
 * content, so it cannot be attached to other content.
 */
export function parseImageName(input: string): string {
  const reference = normalizeReference(input);
  if (reference.digest !== undefined) {
    throw new InvalidArgumentError(`"${input}" cannot be used as an image name: it contains a digest`, {
      hint: 'give a name with an optional tag, e.g. myapp or myapp:v1',
    });
  }
  return formatReference(reference);
}

/** The familiar repository part of a stored "name:tag". */
export function repositoryOf(name: string): string {
  return parseReference(name).name;
}
