/**
 * What pulls and pushes report while they run, and the options they share. The runtime only emits
 * events; the CLI draws them (bars on a terminal, one line per change otherwise).
 */
import path from 'node:path';
import type { StateLayout } from '../../paths.js';
import type { Platform } from '../import/platform.js';
import type { AuthFileLocation, Credentials } from './auth-file.js';
import type { RetryPolicy } from './client.js';

export type BlobPhase =
  /** Queued behind other transfers. */
  | 'waiting'
  /** Pull: the store has it. Push: the registry has it. */
  | 'exists'
  /** Push: linked from another repository of the same registry. */
  | 'mounted'
  | 'transferring'
  /** A dropped connection or an error status; the transfer tries again. */
  | 'retrying'
  | 'done'
  /** Pull: the layer is being verified against its diff_id and unpacked into the store's work area. */
  | 'extracting'
  /** Pull: the layer is unpacked and verified (docker's "Pull complete"). */
  | 'complete'
  | 'failed';

export type TransferEvent =
  | { type: 'resolved'; reference: string; digest: string; mediaType: string; platform?: string | undefined }
  | {
      type: 'blob';
      digest: string;
      /** "layer" or "config". */
      kind: 'layer' | 'config';
      phase: BlobPhase;
      current: number;
      total: number;
      /** Bytes an earlier, interrupted transfer had left (pull resume). */
      resumedFrom?: number | undefined;
      detail?: string | undefined;
    }
  | { type: 'storing' }
  | { type: 'manifest'; reference: string; digest: string };

export interface TransferOptions {
  tlsVerify?: boolean | undefined;
  /** Where credentials are looked up (see auth-file.ts). */
  authFile?: AuthFileLocation | undefined;
  /** Credentials for this call only (--creds); win over the auth file. */
  credentials?: Credentials | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  /** Blobs transferred at once (default 3, as docker). */
  concurrency?: number | undefined;
  onEvent?: ((event: TransferEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface PullOptions extends TransferOptions {
  /** Platform to pick from a multi-platform image (default: this host). */
  platform?: Platform | undefined;
}

/** Downloaded blobs wait here, by digest, until the image is stored; a failed pull resumes from them. */
export function pullCacheDirectory(layout: StateLayout): string {
  return path.join(layout.root, 'cache', 'pull', 'sha256');
}

/** Runs `task` over `items`, at most `limit` at once; the first failure stops new starts. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next;
      next += 1;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}
