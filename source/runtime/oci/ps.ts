/**
 * `gantry-oci ps`: the processes of a container's cgroup, as runc's: `--format json` prints their
 * host pids as a JSON array (containerd's shim reads it); the table is `ps`'s own (`ps -ef`, or the
 * options given after the id) cut down to the rows of those pids.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ConflictError, InvalidArgumentError } from '../errors.js';
import { containerCgroup } from './cgroup.js';
import type { OciStore } from './store.js';

export async function ps(
  store: OciStore,
  id: string,
  options: { format: string; psArgs: string[] },
): Promise<string> {
  if (options.format !== 'table' && options.format !== 'json')
    throw new InvalidArgumentError(`invalid --format ${JSON.stringify(options.format)}: table or json`);
  const state = await store.load(id);
  if (store.status(state) === 'stopped' && options.format === 'table')
    throw new ConflictError(`container ${id} is not running`);
  const pids = await containerCgroup(store, state).pids();
  if (options.format === 'json') return `${JSON.stringify(pids)}\n`;
  const { stdout } = await promisify(execFile)('ps', options.psArgs.length > 0 ? options.psArgs : ['-ef'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const [header = '', ...rows] = stdout.split('\n');
  const column = header.trim().split(/\s+/).indexOf('PID');
  if (column < 0) throw new InvalidArgumentError(`the ps output has no PID column: ${header.trim()}`);
  const wanted = new Set(pids);
  const lines = rows.filter((row) => wanted.has(Number(row.trim().split(/\s+/)[column])));
  return `${[header, ...lines].join('\n')}\n`;
}
