/**
 * A container's process that could not be executed after it was started (the exec fifo was
 * released, so the monitor recorded the errno): the error docker would print, with the image's
 * platform when the host cannot run its binaries.
 */
import { formatPlatform, hostPlatform } from '../images/import/platform.js';
import type { GantryError } from '../errors.js';
import { execError } from '../init/helper.js';
import type { ContainerRecord } from './record.js';

const ENOEXEC = 8;

/** The image's and the host's platforms, when the image's os or architecture is not the host's. */
export function platformMismatch(record: ContainerRecord): { image: string; host: string } | undefined {
  if (!record.ImagePlatform) return undefined;
  const host = hostPlatform();
  const [os, architecture] = record.ImagePlatform.split('/');
  if (os === host.os && architecture === host.architecture) return undefined;
  return { image: record.ImagePlatform, host: formatPlatform(host) };
}

export function runExecError(record: ContainerRecord, errno: number): GantryError {
  const command = record.Config.Entrypoint[0] ?? record.Config.Cmd[0] ?? '';
  const platforms = errno === ENOEXEC ? platformMismatch(record) : undefined;
  return execError(errno, command, platforms ? { platforms } : {});
}
