/**
 * Content digests. A digest from an input document becomes a file name in the blob store, so it
 * is checked against one strict form before anything uses it as a path.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { ImageFormatError, InvalidArgumentError } from '../errors.js';

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

export function isSha256Digest(value: unknown): value is string {
  return typeof value === 'string' && SHA256_DIGEST.test(value);
}

function describeBadDigest(value: unknown): string {
  if (typeof value !== 'string') return `not a string (${typeof value})`;
  const algorithm = value.includes(':') ? value.slice(0, value.indexOf(':')) : '';
  if (algorithm !== '' && algorithm !== 'sha256') return `the algorithm "${algorithm}" is not supported`;
  return `"${value.length > 80 ? `${value.slice(0, 80)}...` : value}" is malformed`;
}

/** Checks a digest read from an image document; `what` names the field for the message. */
export function validateDigest(value: unknown, what: string): string {
  if (isSha256Digest(value)) return value;
  throw new ImageFormatError(`${what}: invalid digest, ${describeBadDigest(value)}`, {
    hint: 'a digest is "sha256:" followed by 64 lowercase hex digits',
  });
}

/** Checks a digest given by the user (a reference or a flag). */
export function validateUserDigest(value: string): string {
  if (isSha256Digest(value)) return value;
  throw new InvalidArgumentError(`invalid digest: ${describeBadDigest(value)}`, {
    hint: 'a digest is "sha256:" followed by 64 lowercase hex digits',
  });
}

export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function digestHex(digest: string): string {
  return digest.slice('sha256:'.length);
}

/** Short form shown to users: the first 12 hex digits. */
export function shortId(digest: string): string {
  return digestHex(digest).slice(0, 12);
}

/**
 * ChainIDs identify a layer together with everything below it, so two images share an unpacked
 * layer only when the whole stack underneath is the same (OCI image spec, config.md).
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const result: string[] = [];
  for (const diffId of diffIds) {
    const previous = result.at(-1);
    result.push(previous === undefined ? diffId : sha256Digest(`${previous} ${diffId}`));
  }
  return result;
}

/** sha256 and size of a byte range of a file, read in large chunks. */
export async function digestFileRange(
  file: string,
  start = 0,
  length?: number,
): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const end = length === undefined ? undefined : start + length - 1;
  if (length === 0) return { digest: sha256Digest(''), size: 0 };
  for await (const chunk of fs.createReadStream(file, { start, end, highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}
