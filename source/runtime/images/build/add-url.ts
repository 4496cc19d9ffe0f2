/**
 * ADD of an http(s) URL: the file is downloaded into the build's work directory (followed
 * through redirects), checked against `--checksum` when one is given, and copied like a context
 * file with docker's rules: mode 0600, the mtime of the Last-Modified header, never extracted,
 * and named after the URL's last path component when the destination is a directory.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { GantryError, InvalidArgumentError, UnsupportedError } from '../../errors.js';

export const URL_SOURCE = /^[a-z][a-z0-9+.-]*:\/\/|^git@/i;

/** The download did not arrive, or arrived with other content than --checksum says. */
export class DownloadError extends GantryError {}

export interface Download {
  /** The downloaded file (in the work directory). */
  file: string;
  /** The name a destination directory gives it. */
  name: string;
}

const CHECKSUM = /^(sha256|sha384|sha512):([0-9a-f]+)$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** Parses --checksum=ALGORITHM:HEX; ADD accepts it only with URL sources (BuildKit's rule). */
export function parseChecksum(value: string): { algorithm: string; hex: string } {
  const match = CHECKSUM.exec(value);
  if (!match || match[2]!.length !== HEX_LENGTH[match[1]!]) {
    throw new InvalidArgumentError(`ADD --checksum=${value}: expected sha256:<64 hex digits>`, {
      hint: 'sha384:<96 hex> and sha512:<128 hex> are accepted too',
    });
  }
  return { algorithm: match[1]!, hex: match[2]! };
}

/** Refuses the URL forms ADD cannot fetch here, clearly. */
export function checkAddUrl(source: string, keyword: string): URL {
  if (keyword !== 'ADD') {
    throw new InvalidArgumentError(`${keyword} ${source}: COPY does not take URLs`, {
      hint: 'use ADD to download a file',
    });
  }
  let url: URL | undefined;
  try {
    url = new URL(source);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UnsupportedError(`ADD ${source}: only http:// and https:// URLs can be downloaded`, {
      hint: 'git repositories are not supported: clone into the build context and COPY from there',
    });
  }
  return url;
}

/** The name docker gives a download: the last component of the URL's path. */
function downloadName(url: URL): string {
  const last = decodeURIComponent(url.pathname.split('/').filter(Boolean).at(-1) ?? '');
  return last === '' || last === '.' || last === '..' ? '' : last;
}

export async function downloadForAdd(
  url: URL,
  directory: string,
  checksum: { algorithm: string; hex: string } | undefined,
  signal?: AbortSignal,
): Promise<Download> {
  const label = `ADD ${url.href}`;
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', ...(signal ? { signal } : {}) });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new DownloadError(`${label}: the download failed: ${cause}`, {
      hint: 'check the URL and that this host can reach it',
      cause: error,
    });
  }
  if (!response.ok || !response.body) {
    throw new DownloadError(
      `${label}: the server answered ${response.status} ${response.statusText}`.trim(),
      {
        hint: 'check the URL',
      },
    );
  }
  fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
  const file = fs.mkdtempSync(path.join(directory, 'add-')) + '/download';
  const hash = createHash(checksum?.algorithm ?? 'sha256');
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => hash.update(chunk));
  try {
    await pipeline(body, fs.createWriteStream(file, { mode: 0o600 }));
  } catch (error) {
    throw new DownloadError(`${label}: the download broke off: ${(error as Error).message}`, {
      hint: 'try again',
      cause: error,
    });
  }
  if (checksum) {
    const got = hash.digest('hex');
    if (got !== checksum.hex) {
      throw new DownloadError(
        `${label}: the download's digest is ${checksum.algorithm}:${got}, --checksum expects ${checksum.algorithm}:${checksum.hex}`,
        { hint: 'the file on the server changed, or the checksum is wrong; nothing of this build was kept' },
      );
    }
  }
  // docker: downloads are 0600, dated by Last-Modified when the server sends one.
  fs.chmodSync(file, 0o600);
  const modified = Date.parse(response.headers.get('last-modified') ?? '');
  if (!Number.isNaN(modified)) fs.utimesSync(file, modified / 1000, modified / 1000);
  else fs.utimesSync(file, 0, 0);
  return { file, name: downloadName(url) };
}
