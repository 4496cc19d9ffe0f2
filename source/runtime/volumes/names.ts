/**
 * Volume names as docker's local driver takes them: a letter or digit, then letters, digits, "_",
 * "." or "-" (two characters at least); anonymous volumes get 64 random hex digits, as docker's.
 */
import crypto from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** docker's label on the volumes it makes for a container (image VOLUME, `-v /path`). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export function isVolumeName(name: string): boolean {
  return VOLUME_NAME.test(name);
}

export function validateVolumeName(name: string): string {
  if (!isVolumeName(name)) {
    throw new InvalidArgumentError(
      `create ${name}: ${JSON.stringify(name)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      { hint: 'a volume name is at least two characters: a letter or digit, then letters, digits, _ . -' },
    );
  }
  return name;
}

export function generateVolumeName(): string {
  return crypto.randomBytes(32).toString('hex');
}
