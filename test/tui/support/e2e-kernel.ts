/**
 * What the tmux end-to-end tests of the TUI (e2e, remote-e2e) check on the kernel after pressing
 * keys, written once: a container's cgroup files on either cgroup version, and the Limits pane's
 * live memory edit that must reach the cgroup file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TmuxSession } from '../../../scripts/lib/tmux.mjs';
import { waitFor } from '../../support/engine.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** cgroup v1 has one hierarchy per controller; v2 (the guest of test:cgroup-v2) has one tree. */
export const v2 = fs.existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers'));

/** A container's cgroup file; `controller` names the v1 hierarchy and is unused on v2. */
export function cgroupFile(controller: string, parent: string, id: string, file: string): string {
  return v2 ? path.join(CGROUP_ROOT, parent, id, file) : path.join(CGROUP_ROOT, controller, parent, id, file);
}

/** The file holding a container's memory limit. */
export function memoryLimitFile(parent: string, id: string): string {
  return cgroupFile('memory', parent, id, v2 ? 'memory.max' : 'memory.limit_in_bytes');
}

/** A file's trimmed text, undefined while it does not exist. */
export function readTrimmed(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * In the Limits pane showing memory at 64MiB: edits it to 48m, waits for `limitFile` to hold the
 * new bytes (the screen goes into the error if it never does) and for the pane to show it.
 */
export async function editMemoryLimitTo48m(tui: TmuxSession, limitFile: string): Promise<void> {
  await tui.waitFor(/memory\s+64MiB/, 60_000);
  tui.send('Enter', 'C-u');
  tui.type('48m');
  tui.send('Enter');
  await waitFor(
    () => readTrimmed(limitFile) === String(48 * 1024 * 1024) || undefined,
    60_000,
    `the memory limit in ${limitFile} to change`,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; the screen was:\n${tui.capture()}`);
  });
  await tui.waitFor(/memory\s+48MiB/, 60_000, 'the new value on screen');
}
