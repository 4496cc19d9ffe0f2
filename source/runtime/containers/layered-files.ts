/**
 * Reads a file of a container's filesystem without mounting it (the overlay is only ever mounted
 * inside the container's own mount namespace): the image's layers with the container's writable
 * layer on top, overlayfs's rules applied, symlinks resolved inside the image. Used to resolve
 * users and groups from /etc/passwd and /etc/group before start. The writable layer is the
 * container's own work, so it is read as hostile as the image: see StackView.
 */
import fs from 'node:fs';
import { StackView } from '../images/diff/stack-view.js';

/**
 * `layers` top first (the container's upper directory, then the image's layers top down); one
 * not made yet (the upper directory, while the container is being created) is left out.
 */
export function readLayeredFile(layers: readonly string[], file: string): string | undefined {
  return new StackView(layers.filter((layer) => fs.existsSync(layer)).reverse()).readFile(file);
}
