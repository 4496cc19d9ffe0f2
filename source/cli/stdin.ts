/**
 * The commands' ways of taking input on stdin, written once: small text (a Containerfile, a
 * manifest, a password) read whole, and archives (load, image import -) spooled into a private
 * work directory under the state root's tmp/, removed on every exit path and swept by the next
 * command if this one is killed.
 */
import type { ImageStore } from '../runtime/images/store.js';
import type { Spool } from '../runtime/images/work-directory.js';

/** All of stdin as UTF-8 text. */
export async function readStdinText(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** stdin copied into a work directory of `store`'s, as `fileName`; the caller disposes `work`. */
export async function spoolStdin(store: ImageStore, kind: string, fileName: string): Promise<Spool> {
  const { spoolStream } = await import('../runtime/images/work-directory.js');
  return spoolStream((workKind) => store.createWorkDirectory(workKind), kind, process.stdin, fileName);
}
