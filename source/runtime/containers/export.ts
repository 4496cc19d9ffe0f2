/**
 * `gantry export`: a container's filesystem (its image layers and its own changes, merged) as
 * one tar stream, as docker export writes it. Volumes, binds, tmpfs and the kernel filesystems
 * are left out: a running container's mount points come as empty directories (or empty files
 * for file binds such as /etc/hosts), a stopped one's root is mounted without them.
 *
 * The tree is read through descriptors inside the container's root only (the in-root walk `cp`
 * uses), so a symlink the container planted is archived as a link and never followed on the host.
 */
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { EngineCore } from './core.js';
import type { ContainerRecord } from './record.js';
import { walkEntries } from './copy/entries.js';
import { openContainerRoot } from './copy/roots.js';
import { TarSink } from './copy/sinks.js';

/** Undoes mountinfo's octal escapes (a space is \040). */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * Mount points below the root a process sees, relative and without a leading "/" (from its
 * mountinfo, whose fifth field is the mount point relative to the process's root).
 */
export function mountPointsOf(mountinfo: string): Set<string> {
  const points = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const relative = unescapeMountPath(field).replace(/^\/+/, '');
    if (relative !== '') points.add(relative);
  }
  return points;
}

async function* nothing(): AsyncGenerator<Uint8Array> {}

/** Writes the container's filesystem to `output` as a tar (ending the stream). */
export async function exportContainer(
  core: EngineCore,
  record: ContainerRecord,
  output: Writable,
): Promise<void> {
  const croot = await openContainerRoot(core, record, { withMounts: false });
  try {
    let mountPoints = new Set<string>();
    if (croot.running && record.InitProcess) {
      // Read after the root was opened and checked to be this container's init: the same process.
      mountPoints = mountPointsOf(fs.readFileSync(`/proc/${record.InitProcess.pid}/mountinfo`, 'utf8'));
    }
    const sink = new TarSink(output);
    for (const name of croot.root.names().sort()) {
      for (const entry of walkEntries(croot.root, name, name, { notInto: mountPoints })) {
        // A file bind (hosts, resolv.conf): the file is there, its content is not the image's.
        if (entry.type === 'file' && mountPoints.has(entry.path))
          await sink.add({ ...entry, size: 0 }, nothing());
        else await sink.add(entry);
      }
    }
    await sink.finish();
  } finally {
    await croot.close();
  }
}
