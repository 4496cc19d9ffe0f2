/** A bundle's config.json, read and validated in full (create, exec), and runc's HOME default. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { readTextInRoot } from '../in-root.js';
import { resolveUser } from '../containers/user.js';
import { InvalidArgumentError } from '../errors.js';
import type { OciSpec } from '../spec/types.js';
import { validateSpec } from '../spec/validate.js';

export async function readSpec(bundle: string): Promise<OciSpec> {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`cannot read ${file}: ${(error as Error).message}`, {
      hint: 'give the bundle directory with --bundle',
    });
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  validateSpec(spec, { bundle, source: file });
  return spec;
}

/**
 * As runc: a process without HOME in its environment gets its user's home from the root
 * filesystem's /etc/passwd, or "/".
 */
export function withDefaultHome(spec: OciSpec, bundle: string): void {
  const proc = spec.process;
  if (!proc || (proc.env ?? []).some((entry) => entry.startsWith('HOME='))) return;
  const rootfs = path.resolve(bundle, spec.root?.path ?? 'rootfs');
  let home = '/';
  try {
    // Resolved inside the root filesystem, as runc reads it after pivot_root: a symlink to a host
    // file reaches the root's own copy of that path, if any.
    const passwd = readTextInRoot(rootfs, '/etc/passwd');
    home = resolveUser(String(proc.user?.uid ?? 0), passwd, undefined).home || '/';
  } catch {
    // no passwd file, or no entry: "/"
  }
  proc.env = [...(proc.env ?? []), `HOME=${home}`];
}
