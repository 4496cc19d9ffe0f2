/**
 * What the user-namespace suites share: a base directory of the test's own with private
 * subordinate id files (the engine's gantry processes inherit the variables, so the host's
 * /etc/subuid is never touched), open to the container's unprivileged root; an open directory for
 * volumes; a gantry-oci bundle mapped to a far range of host ids; and the mapping `inspect` shows.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { testName, type TestEngine } from './engine.js';
import { editSpec } from './oci-bundle.js';

/** Host ids a bundle's container 0..65535 map to: far from any real user of the host. */
export const HOST_UID = 3_100_000;
export const HOST_GID = 3_200_000;

/**
 * A fresh base directory (0711: the container's root must traverse it to reach what is below),
 * and GANTRY_SUBUID_FILE/GANTRY_SUBGID_FILE pointed into it. Call at module level, before the
 * suite's engine starts anything.
 */
export function usernsBase(label: string): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `${testName(label)}-`));
  fs.chmodSync(base, 0o711);
  process.env.GANTRY_SUBUID_FILE = path.join(base, 'subuid');
  process.env.GANTRY_SUBGID_FILE = path.join(base, 'subgid');
  return base;
}

/** A directory under `base` anyone may write (a volume an unprivileged container root writes to). */
export function openDirectory(base: string, name: string): string {
  const directory = path.join(base, name);
  fs.mkdirSync(directory, { mode: 0o777 });
  fs.chmodSync(directory, 0o777); // the umask took the write bits
  return directory;
}

/** Gives a `runc spec` bundle a new user namespace mapped to HOST_UID/HOST_GID, its root chowned. */
export async function mapBundle(bundle: string): Promise<void> {
  // The bundle's files belong to the container's root, as a driver prepares them for runc.
  await execa('chown', ['-R', `${HOST_UID}:${HOST_GID}`, path.join(bundle, 'rootfs')]);
  editSpec(bundle, (spec) => {
    spec.linux.namespaces.push({ type: 'user' });
    spec.linux.uidMappings = [{ containerID: 0, hostID: HOST_UID, size: 65536 }];
    spec.linux.gidMappings = [{ containerID: 0, hostID: HOST_GID, size: 65536 }];
  });
}

export interface IdMappings {
  UidMap: string[];
  GidMap: string[];
  RootfsMapping?: string;
}

/** `inspect`'s HostConfig.IDMappings of a container. */
export async function idMappings(engine: TestEngine, name: string): Promise<IdMappings> {
  const result = await engine.gantry(['inspect', '-f', '{{json .HostConfig.IDMappings}}', name]);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as IdMappings;
}

/** The host id a "CONTAINER:HOST:SIZE" map starts at. */
export const hostStart = (map: string): number => Number(map.split(':')[1]);
