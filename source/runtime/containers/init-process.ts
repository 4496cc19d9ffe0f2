/**
 * `--init`: gantry's docker-init (source/runtime/init/docker-init/) runs as the container's PID 1
 * and starts the command, as docker's tini does. Each container gets its own copy, in its state
 * directory, bind-mounted read-only at docker's path: a container that could remount it writable
 * (--privileged) rewrites only its own copy, never the program every container runs.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UnsupportedError } from '../errors.js';
import { helperPath } from '../init/helper.js';
import type { EngineCore } from './core.js';
import type { ContainerRecord } from './record.js';

/** Where the init is in the container: docker's path for its tini. */
export const INIT_PATH = '/sbin/docker-init';
const COPY = 'docker-init';

/** Copies the init into the container's directory; returns the copy's path. */
export async function prepareInit(core: EngineCore, record: ContainerRecord): Promise<string> {
  const source = path.join(path.dirname(helperPath()), 'gantry-docker-init');
  const target = path.join(core.containers.dir(record.Id), COPY);
  try {
    await fsp.copyFile(source, `${target}.tmp`);
  } catch (error) {
    throw new UnsupportedError(`the --init program ${source} is missing`, {
      hint: 'build it with `npm install` (or `node scripts/build.mjs`) in the gantry checkout',
      cause: error,
    });
  }
  await fsp.chmod(`${target}.tmp`, 0o755);
  await fsp.rename(`${target}.tmp`, target);
  return target;
}
