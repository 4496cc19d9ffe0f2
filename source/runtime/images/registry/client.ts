/**
 * A client for the OCI distribution API (the Docker Registry HTTP API V2): ping, manifests, blobs
 * (download with resume, existence checks, cross-repository mounts, uploads) and authentication.
 *
 * Authentication follows the registry's challenge: none, Basic (htpasswd registries), or Bearer
 * (a token server named by the challenge's realm, asked for a token per service and scope, with
 * Basic credentials when there are some). Tokens are cached per scope until they expire.
 *
 * Transport: https with certificate checks by default. With tlsVerify false, or for a registry on
 * localhost/127.0.0.0/8/::1 (Docker's rule), a registry that does not speak TLS is used over plain
 * HTTP; tlsVerify false also accepts any certificate.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImageFormatError, nameFullDisk, NotFoundError, UnsupportedError } from '../../errors.js';
import { acquireBlobLock } from './blob-lock.js';
import { sha256Digest } from '../digest.js';
import { digestMismatch } from '../layer/ingest.js';
import { MEDIA_TYPE } from '../media-types.js';
import { DEFAULT_REGISTRY } from '../reference.js';
import type { Credentials } from './auth-file.js';
import { parseChallenges, type AuthChallenge } from './challenge.js';
import { isRetryable, RegistryAuthError, RegistryConnectionError, RegistryResponseError } from './errors.js';
import {
  HttpTransport,
  isCertificateError,
  isTlsProtocolMismatch,
  type HttpRequestOptions,
  type HttpResponse,
} from './http.js';

export interface RetryPolicy {
  /** Tries per request or blob, the first included (default 4). */
  attempts: number;
  /** Wait before the second try; doubles each time (default 500 ms). */
  baseDelayMs: number;
}

export interface RegistryClientOptions {
  /** Registry as references name it: "docker.io", "localhost:5000", "registry.example.com". */
  registry: string;
  /** Check TLS certificates; false also allows plain HTTP. Default: true. */
  tlsVerify?: boolean;
  credentials?: Credentials | undefined;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
}

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

export interface BlobDescriptor {
  digest: string;
  size: number;
}

export interface DownloadOptions {
  onProgress?: ((progress: BlobProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Also link the finished file here, under the blob's lock, so a concurrent pull that clears
   * the cache cannot take it away before this one has used it.
   */
  linkTo?: string | undefined;
}

/** Removes a finished download from the cache (under its lock, see DownloadOptions.linkTo). */
export async function removeCachedBlob(file: string): Promise<void> {
  const lock = await acquireBlobLock(file);
  try {
    await fsp.rm(file, { force: true });
  } finally {
    lock.release();
  }
}

/** Progress of one blob transfer. */
export interface BlobProgress {
  current: number;
  total: number;
  /** Set while waiting before another attempt. */
  retrying?: { attempt: number; reason: string };
  /** Bytes that were already there from an earlier, interrupted transfer. */
  resumedFrom?: number;
}

export const MANIFEST_ACCEPT = [
  MEDIA_TYPE.ociIndex,
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.dockerManifestList,
  MEDIA_TYPE.dockerManifest,
];
const SCHEMA1_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);
const MAX_MANIFEST_BYTES = 4 << 20;
const MAX_ERROR_BODY = 64 * 1024;
const TOKEN_MIN_LIFETIME_S = 60;
const DOCKER_HUB_ENDPOINT = 'registry-1.docker.io';

type AuthScheme =
  { kind: 'none' } | { kind: 'basic' } | { kind: 'bearer'; realm: string; service: string | undefined };

interface DownloadState {
  hash: Hash;
  /** Bytes in the partial file, all of them hashed. */
  offset: number;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

function writeAll(fd: number, chunk: Buffer): void {
  let offset = 0;
  while (offset < chunk.length) offset += fs.writeSync(fd, chunk, offset, chunk.length - offset);
}

/** Docker's rule: a registry on the loopback may be plain HTTP without being declared insecure. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:[0-9]+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';
}

/** The error codes registries put in their JSON error bodies, with the first message. */
function registryErrorSummary(body: Buffer): { codes: string[]; message: string | undefined } {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as {
      errors?: Array<{ code?: unknown; message?: unknown }>;
    };
    const errors = Array.isArray(parsed.errors) ? parsed.errors : [];
    return {
      codes: errors.map((error) => String(error.code)),
      message: errors
        .map((error) => (typeof error.message === 'string' ? error.message : undefined))
        .find(Boolean),
    };
  } catch {
    return { codes: [], message: undefined };
  }
}

function contentType(response: HttpResponse): string | undefined {
  return response.header('content-type')?.split(';')[0]?.trim();
}

export class RegistryClient {
  readonly registry: string;
  private readonly endpointHost: string;
  private readonly tlsVerify: boolean;
  private readonly credentials: Credentials | undefined;
  private readonly retry: RetryPolicy;
  private readonly transport: HttpTransport;
  private base: URL | undefined;
  private scheme: AuthScheme | undefined;
  private readonly tokens = new Map<string, CachedToken>();

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.endpointHost = options.registry === DEFAULT_REGISTRY ? DOCKER_HUB_ENDPOINT : options.registry;
    this.tlsVerify = options.tlsVerify ?? true;
    this.credentials = options.credentials;
    this.retry = { attempts: 4, baseDelayMs: 500, ...options.retry };
    this.transport = new HttpTransport({ tlsVerify: this.tlsVerify, timeoutMs: options.timeoutMs });
  }

  close(): void {
    this.transport.close();
  }

  // ---------------------------------------------------------------- connection and auth

  /**
   * GET /v2/: finds how to reach the registry (https, or http where allowed) and which
   * authentication it wants. Done once; every other call starts with it.
   */
  async ping(): Promise<void> {
    if (this.base && this.scheme) return;
    const mayUseHttp = !this.tlsVerify || isLoopbackRegistry(this.registry);
    let response: HttpResponse;
    try {
      response = await this.withRetry('ping', () =>
        this.transport.request({ method: 'GET', url: new URL(`https://${this.endpointHost}/v2/`) }),
      );
      this.base = new URL(`https://${this.endpointHost}/`);
    } catch (error) {
      if (mayUseHttp && isTlsProtocolMismatch(error)) {
        response = await this.withRetry('ping', () =>
          this.transport.request({ method: 'GET', url: new URL(`http://${this.endpointHost}/v2/`) }),
        );
        this.base = new URL(`http://${this.endpointHost}/`);
      } else if (isCertificateError(error)) {
        throw new RegistryConnectionError(
          `${this.registry}: the TLS certificate was not accepted (${(error as Error).message})`,
          { cause: error, hint: 'for a registry with a self-signed certificate use --tls-verify=false' },
        );
      } else if (isTlsProtocolMismatch(error)) {
        throw new RegistryConnectionError(`${this.registry}: the registry does not speak TLS (HTTPS)`, {
          cause: error,
          hint: 'for a plain-HTTP registry use --tls-verify=false',
        });
      } else {
        throw this.unreachable(error);
      }
    }
    response.discard();
    if (response.status === 200) this.scheme = { kind: 'none' };
    else if (response.status === 401) this.scheme = this.schemeFrom(response);
    else if (response.status === 404) {
      throw new RegistryResponseError(
        `${this.registry} does not serve the registry API (GET /v2/ answered 404)`,
        404,
        { hint: 'check the registry host and port' },
      );
    } else throw this.statusError(response, 'GET /v2/', Buffer.alloc(0));
  }

  private unreachable(error: unknown): Error {
    if (error instanceof RegistryConnectionError) {
      return new RegistryConnectionError(`cannot reach the registry ${this.registry}: ${error.message}`, {
        cause: error,
        hint: 'check the registry name and that it is running',
      });
    }
    return error as Error;
  }

  private schemeFrom(response: HttpResponse): AuthScheme {
    const challenges = parseChallenges(response.header('www-authenticate'));
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    if (bearer?.params.realm) {
      return { kind: 'bearer', realm: bearer.params.realm, service: bearer.params.service };
    }
    if (challenges.some((challenge) => challenge.scheme === 'basic')) return { kind: 'basic' };
    throw new RegistryAuthError(
      `${this.registry} asks for an authentication scheme gantry does not speak (${response.header('www-authenticate') ?? 'no WWW-Authenticate header'})`,
      { hint: 'registries may ask for Basic or Bearer token authentication' },
    );
  }

  /** Checks that the credentials are accepted (what `gantry login` does before storing them). */
  async verifyCredentials(): Promise<void> {
    await this.ping();
    const scheme = this.scheme!;
    if (scheme.kind === 'bearer') {
      await this.fetchToken(scheme, []);
      return;
    }
    const response = await this.transport.request({
      method: 'GET',
      url: new URL('/v2/', this.base),
      headers: this.basicHeader(),
    });
    response.discard();
    if (response.status === 401) throw this.credentialsRefused();
    if (response.status !== 200) throw this.statusError(response, 'GET /v2/', Buffer.alloc(0));
  }

  private basicHeader(): Record<string, string> {
    if (!this.credentials) return {};
    const encoded = Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString(
      'base64',
    );
    return { Authorization: `Basic ${encoded}` };
  }

  private credentialsRefused(): RegistryAuthError {
    return new RegistryAuthError(
      `${this.registry} refused the credentials of "${this.credentials?.username}" (401 Unauthorized)`,
      { hint: `check the user name and password, then log in again: gantry login ${this.registry}` },
    );
  }

  private authenticationRequired(what: string): RegistryAuthError {
    return new RegistryAuthError(`${this.registry}: authentication required to ${what} (401 Unauthorized)`, {
      hint: `log in first: gantry login ${this.registry}`,
    });
  }

  private async fetchToken(
    scheme: Extract<AuthScheme, { kind: 'bearer' }>,
    scopes: readonly string[],
  ): Promise<string> {
    const key = [...scopes].sort().join(' ');
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    const url = new URL(scheme.realm);
    if (scheme.service !== undefined) url.searchParams.set('service', scheme.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    if (this.credentials) url.searchParams.set('account', this.credentials.username);
    let response: HttpResponse;
    try {
      response = await this.withRetry('token', () =>
        this.transport.request({ method: 'GET', url, headers: this.basicHeader() }),
      );
    } catch (error) {
      if (error instanceof RegistryConnectionError) {
        throw new RegistryConnectionError(
          `cannot reach the token server ${url.origin} of ${this.registry}: ${error.message}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
    const body = await response.readBody(MAX_MANIFEST_BYTES);
    if (response.status === 401 || response.status === 403) {
      if (this.credentials) throw this.credentialsRefused();
      throw this.authenticationRequired(scopes.length > 0 ? `access ${scopes.join(', ')}` : 'log in');
    }
    if (response.status !== 200)
      throw this.statusError(response, `token request to ${url.origin}${url.pathname}`, body);
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch (error) {
      throw new RegistryResponseError(
        `the token server ${url.origin} answered something that is not JSON`,
        200,
        {
          cause: error,
        },
      );
    }
    const token = typeof parsed.token === 'string' ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new RegistryResponseError(`the token server ${url.origin} answered without a token`, 200);
    }
    const lifetime =
      typeof parsed.expires_in === 'number' && parsed.expires_in > 0
        ? parsed.expires_in
        : TOKEN_MIN_LIFETIME_S;
    // Renew a little early so a token does not expire between check and use.
    this.tokens.set(key, { token, expiresAt: Date.now() + Math.max(lifetime - 10, 5) * 1000 });
    return token;
  }

  private async authorization(scopes: readonly string[]): Promise<Record<string, string>> {
    const scheme = this.scheme!;
    if (scheme.kind === 'basic') return this.basicHeader();
    if (scheme.kind === 'bearer') return { Authorization: `Bearer ${await this.fetchToken(scheme, scopes)}` };
    return {};
  }

  /**
   * One authenticated request. On 401 the challenge is read again (a registry may widen the
   * scope, or a cached token may have been revoked) and the request is sent once more.
   */
  private async send(
    options: Omit<HttpRequestOptions, 'url'> & { path: string | URL },
    scopes: readonly string[],
    what: string,
  ): Promise<HttpResponse> {
    await this.ping();
    const url = options.path instanceof URL ? options.path : new URL(options.path, this.base);
    const attempt = async (): Promise<HttpResponse> =>
      this.transport.request({
        ...options,
        url,
        headers: { ...options.headers, ...(await this.authorization(scopes)) },
      });
    const response = await attempt();
    if (response.status !== 401) return response;
    response.discard();
    const challenged = this.schemeFrom(response);
    const challengeScope = parseChallenges(response.header('www-authenticate')).find(
      (challenge: AuthChallenge) => challenge.scheme === 'bearer',
    )?.params.scope;
    // The token we sent (if any) was not good enough: never send it again.
    this.tokens.delete([...scopes].sort().join(' '));
    this.scheme = challenged;
    const widened = challengeScope && !scopes.includes(challengeScope) ? [...scopes, challengeScope] : scopes;
    const retried = await this.transport.request({
      ...options,
      url,
      headers: { ...options.headers, ...(await this.authorization(widened)) },
    });
    if (retried.status !== 401) return retried;
    retried.discard();
    if (!this.credentials) throw this.authenticationRequired(what);
    if (challenged.kind === 'basic') throw this.credentialsRefused();
    throw new RegistryAuthError(
      `${this.registry}: "${this.credentials.username}" may not ${what} (401 Unauthorized)`,
      { hint: 'check the repository name and that this account has access to it' },
    );
  }

  private statusError(response: HttpResponse, what: string, body: Buffer): Error {
    const summary = registryErrorSummary(body);
    const detail = summary.message ? `: ${summary.message}` : '';
    const status = `${response.status} ${response.statusText}`.trim();
    if (response.status === 403) {
      return new RegistryAuthError(`${this.registry}: ${what} was denied (${status})${detail}`, {
        hint: `check that this account may do this, or log in: gantry login ${this.registry}`,
      });
    }
    return new RegistryResponseError(
      `${this.registry}: ${what} failed: the registry answered ${status}${detail}`,
      response.status,
      {
        hint: response.status >= 500 ? 'the registry has a problem; try again later' : undefined,
      },
    );
  }

  private async withRetry<T>(what: string, action: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await action(attempt);
      } catch (error) {
        if (
          !isRetryable(error) ||
          attempt >= this.retry.attempts ||
          isTlsProtocolMismatch(error) ||
          isCertificateError(error)
        ) {
          throw error;
        }
        await sleep(this.retry.baseDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  /** Sends a request and turns error statuses (after retries for 5xx) into errors. */
  private async call(
    options: Omit<HttpRequestOptions, 'url'> & { path: string | URL },
    scopes: readonly string[],
    what: string,
    accept: (status: number) => boolean,
  ): Promise<HttpResponse> {
    return this.withRetry(what, async () => {
      const response = await this.send(options, scopes, what);
      if (accept(response.status)) return response;
      const body = await response.readBody(MAX_ERROR_BODY).catch(() => Buffer.alloc(0));
      throw this.statusError(response, what, body);
    });
  }

  // ---------------------------------------------------------------- manifests

  /** GET a manifest or index by tag or digest; verified against the digest when one is known. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const scopes = [`repository:${repository}:pull`];
    const what = `pull ${repository}`;
    const response = await this.call(
      {
        method: 'GET',
        path: `/v2/${repository}/manifests/${reference}`,
        headers: { Accept: MANIFEST_ACCEPT.join(', ') },
      },
      scopes,
      what,
      (status) => status === 200 || status === 404,
    );
    const bytes = await response.readBody(MAX_MANIFEST_BYTES);
    if (response.status === 404) {
      const { codes } = registryErrorSummary(bytes);
      const name = `${this.registry}/${repository}`;
      if (codes.includes('NAME_UNKNOWN')) {
        throw new NotFoundError(`repository ${name} not found (manifest unknown)`, {
          hint: 'check the repository name',
        });
      }
      const separator = reference.startsWith('sha256:') ? '@' : ':';
      const tags = await this.listTags(repository).catch(() => undefined);
      if (tags === null) {
        throw new NotFoundError(`manifest unknown: repository ${name} not found`, {
          hint: 'check the registry and repository name',
        });
      }
      const known =
        tags && tags.length > 0
          ? ` (tags: ${tags.slice(0, 10).join(', ')}${tags.length > 10 ? ', ...' : ''})`
          : '';
      throw new NotFoundError(`manifest unknown: ${name}${separator}${reference} not found${known}`, {
        hint: 'check the repository name and the tag or digest',
      });
    }
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw digestMismatch(
        `the manifest ${repository}@${reference} from ${this.registry}`,
        reference,
        digest,
      );
    }
    const claimed = response.header('docker-content-digest');
    if (claimed?.startsWith('sha256:') && claimed !== digest) {
      throw digestMismatch(`the manifest ${repository}:${reference} from ${this.registry}`, claimed, digest);
    }
    let mediaType = contentType(response) ?? '';
    if (!MANIFEST_ACCEPT.includes(mediaType as (typeof MANIFEST_ACCEPT)[number])) {
      // Some registries serve application/json; the document says what it is.
      try {
        const declared = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown; manifests?: unknown })
          .mediaType;
        if (typeof declared === 'string') mediaType = declared;
      } catch {
        // reported below
      }
    }
    if (SCHEMA1_TYPES.has(mediaType)) {
      throw new UnsupportedError(
        `${this.registry}/${repository}:${reference} is a Docker schema 1 image, which is not supported`,
        {
          hint: 'push the image again with a current tool (schema 2 or OCI)',
        },
      );
    }
    if (!MANIFEST_ACCEPT.includes(mediaType as (typeof MANIFEST_ACCEPT)[number])) {
      throw new ImageFormatError(
        `${this.registry}/${repository}:${reference}: unknown manifest media type "${mediaType}"`,
        { hint: `expected one of ${MANIFEST_ACCEPT.join(', ')}` },
      );
    }
    return { bytes, digest, mediaType };
  }

  /** Tags of a repository (the first page), or null when the registry does not know it. */
  async listTags(repository: string): Promise<string[] | null> {
    const response = await this.send(
      { method: 'GET', path: `/v2/${repository}/tags/list?n=100` },
      [`repository:${repository}:pull`],
      `list the tags of ${repository}`,
    );
    const body = await response.readBody(MAX_MANIFEST_BYTES);
    if (response.status === 404) return null;
    if (response.status !== 200) throw this.statusError(response, `listing the tags of ${repository}`, body);
    const parsed = JSON.parse(body.toString('utf8')) as { tags?: unknown };
    return Array.isArray(parsed.tags)
      ? parsed.tags.filter((tag): tag is string => typeof tag === 'string')
      : [];
  }

  /** Does the registry have this manifest? Returns its digest, or undefined. */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const response = await this.call(
      {
        method: 'HEAD',
        path: `/v2/${repository}/manifests/${reference}`,
        headers: { Accept: MANIFEST_ACCEPT.join(', ') },
      },
      [`repository:${repository}:pull`],
      `look up ${repository}:${reference}`,
      (status) => status === 200 || status === 404,
    );
    response.discard();
    return response.status === 200 ? response.header('docker-content-digest') : undefined;
  }

  async putManifest(repository: string, tag: string, manifest: FetchedManifest): Promise<void> {
    const what = `push the manifest of ${repository}:${tag}`;
    const response = await this.call(
      {
        method: 'PUT',
        path: `/v2/${repository}/manifests/${tag}`,
        headers: { 'Content-Type': manifest.mediaType },
        body: manifest.bytes,
      },
      [`repository:${repository}:pull,push`],
      what,
      (status) => status === 201 || status === 200,
    );
    response.discard();
    const stored = response.header('docker-content-digest');
    if (stored?.startsWith('sha256:') && stored !== manifest.digest) {
      throw new RegistryResponseError(
        `${this.registry} stored the manifest of ${repository}:${tag} as ${stored}, not ${manifest.digest}`,
        response.status,
      );
    }
  }

  // ---------------------------------------------------------------- blobs

  /** A small blob (a config) read into memory and verified. */
  async getSmallBlob(repository: string, descriptor: BlobDescriptor, limit: number): Promise<Buffer> {
    if (descriptor.size > limit) {
      throw new ImageFormatError(
        `the blob ${descriptor.digest} is ${descriptor.size} bytes, more than the ${limit} allowed`,
      );
    }
    const response = await this.call(
      { method: 'GET', path: `/v2/${repository}/blobs/${descriptor.digest}` },
      [`repository:${repository}:pull`],
      `pull ${repository}`,
      (status) => status === 200 || status === 404,
    );
    const bytes = await response.readBody(limit);
    if (response.status === 404) throw this.blobUnknown(repository, descriptor.digest);
    if (bytes.length !== descriptor.size) {
      throw new ImageFormatError(
        `size mismatch for the blob ${descriptor.digest} from ${this.registry}/${repository}: expected ${descriptor.size} bytes, got ${bytes.length}`,
      );
    }
    const digest = sha256Digest(bytes);
    if (digest !== descriptor.digest) {
      throw digestMismatch(`the blob from ${this.registry}/${repository}`, descriptor.digest, digest);
    }
    return bytes;
  }

  private blobUnknown(repository: string, digest: string): NotFoundError {
    return new NotFoundError(`blob unknown: ${this.registry}/${repository} has no blob ${digest}`, {
      hint: 'the image in the registry is incomplete; push it again',
    });
  }

  /**
   * Downloads a blob into `file` (complete and verified, or not there at all). Bytes land in
   * `file.partial` first; a later call, in this process or another, continues from there with a
   * Range request. Dropped connections and 5xx answers are retried with backoff; a digest or
   * size mismatch deletes the partial file and fails.
   */
  async downloadBlob(
    repository: string,
    descriptor: BlobDescriptor,
    file: string,
    options: DownloadOptions = {},
  ): Promise<{ resumedFrom: number; fetched: boolean }> {
    const { onProgress, signal } = options;
    const lock = await acquireBlobLock(file);
    try {
      const complete = await fsp.stat(file).catch(() => undefined);
      if (complete?.size === descriptor.size) {
        if (options.linkTo !== undefined) await fsp.link(file, options.linkTo);
        onProgress?.({ current: descriptor.size, total: descriptor.size });
        return { resumedFrom: descriptor.size, fetched: false };
      }
      const partial = `${file}.partial`;
      const state: DownloadState = { hash: createHash('sha256'), offset: 0 };
      const existing = await fsp.stat(partial).catch(() => undefined);
      if (existing && existing.size <= descriptor.size) {
        // Continue the hash over what an earlier attempt left.
        for await (const chunk of fs.createReadStream(partial, { highWaterMark: 1 << 20 })) {
          state.hash.update(chunk as Buffer);
        }
        state.offset = existing.size;
      } else if (existing) {
        await fsp.rm(partial, { force: true });
      }
      const resumedFrom = state.offset;
      let lastError: unknown;
      for (let attempt = 1; state.offset < descriptor.size; attempt += 1) {
        if (attempt > 1) {
          if (attempt > this.retry.attempts) {
            throw new RegistryConnectionError(
              `downloading ${descriptor.digest} from ${this.registry}/${repository} failed after ${this.retry.attempts} attempts: ${(lastError as Error).message}`,
              {
                cause: lastError,
                hint: `pull again: the ${state.offset} bytes already downloaded are kept and the download continues from there`,
              },
            );
          }
          onProgress?.({
            current: state.offset,
            total: descriptor.size,
            retrying: { attempt, reason: (lastError as Error).message },
          });
          await sleep(this.retry.baseDelayMs * 2 ** (attempt - 2), undefined, { signal });
        }
        try {
          await this.fetchBlobRange(repository, descriptor, partial, state, signal, (current) =>
            onProgress?.({ current, total: descriptor.size, resumedFrom }),
          );
          if (state.offset < descriptor.size) {
            lastError = new RegistryConnectionError(
              `the response ended at byte ${state.offset} of ${descriptor.size}`,
            );
          }
        } catch (error) {
          if (signal?.aborted || !isRetryable(error)) throw error;
          lastError = error;
        }
      }
      const digest = `sha256:${state.hash.digest('hex')}`;
      if (digest !== descriptor.digest) {
        await fsp.rm(partial, { force: true });
        throw digestMismatch(
          `the blob downloaded from ${this.registry}/${repository}`,
          descriptor.digest,
          digest,
        );
      }
      // An empty blob never opened the partial file.
      await (await fsp.open(partial, 'a', 0o600)).close();
      await fsp.rename(partial, file);
      if (options.linkTo !== undefined) await fsp.link(file, options.linkTo);
      return { resumedFrom, fetched: true };
    } finally {
      lock.release();
    }
  }

  /**
   * One GET of the rest of a blob, appended to `partial` and hashed as it arrives. A registry
   * that ignores the Range header sends everything again: then file and hash start over.
   */
  private async fetchBlobRange(
    repository: string,
    descriptor: BlobDescriptor,
    partial: string,
    state: DownloadState,
    signal: AbortSignal | undefined,
    onBytes: (current: number) => void,
  ): Promise<void> {
    const headers: Record<string, string> = {};
    if (state.offset > 0) headers.Range = `bytes=${state.offset}-`;
    const response = await this.send(
      { method: 'GET', path: `/v2/${repository}/blobs/${descriptor.digest}`, headers, signal },
      [`repository:${repository}:pull`],
      `pull ${repository}`,
    );
    if (response.status === 404) {
      response.discard();
      throw this.blobUnknown(repository, descriptor.digest);
    }
    if (response.status === 200 && state.offset > 0) {
      state.hash = createHash('sha256');
      state.offset = 0;
    } else if (response.status !== 200 && response.status !== 206) {
      const body = await response.readBody(MAX_ERROR_BODY).catch(() => Buffer.alloc(0));
      throw this.statusError(response, `the download of ${descriptor.digest}`, body);
    }
    // Flowing mode with synchronous writes: every byte that arrived before a connection drop is
    // kept (an async iterator would drop what it had buffered), so a retry resumes exactly there.
    const fd = fs.openSync(partial, state.offset === 0 ? 'w' : 'a', 0o600);
    const stream = response.stream;
    try {
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const settle = (error?: Error): void => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          if (error) reject(error);
          else resolve();
        };
        const onAbort = (): void => {
          stream.destroy();
          settle(
            Object.assign(new Error('the pull was cancelled'), { name: 'AbortError', code: 'ABORT_ERR' }),
          );
        };
        signal?.addEventListener('abort', onAbort);
        stream.on('data', (chunk: Buffer) => {
          if (settled) return;
          if (state.offset + chunk.length > descriptor.size) {
            stream.destroy();
            fs.ftruncateSync(fd, 0);
            state.offset = 0;
            state.hash = createHash('sha256');
            settle(
              new ImageFormatError(
                `${this.registry}/${repository}: the blob ${descriptor.digest} is longer than the ${descriptor.size} bytes the manifest says`,
              ),
            );
            return;
          }
          try {
            writeAll(fd, chunk);
          } catch (error) {
            // A full disk: what is kept is exactly what was hashed, so a later pull resumes there.
            stream.destroy();
            fs.ftruncateSync(fd, state.offset);
            settle(nameFullDisk(error, partial) as Error);
            return;
          }
          state.hash.update(chunk);
          state.offset += chunk.length;
          onBytes(state.offset);
        });
        stream.on('end', () => settle());
        stream.on('error', (error) =>
          settle(
            new RegistryConnectionError(
              `the connection dropped while downloading ${descriptor.digest} (at byte ${state.offset} of ${descriptor.size}): ${error.message}`,
              { cause: error },
            ),
          ),
        );
        // Closed without 'end' or 'error': the caller sees the short length and tries again.
        stream.on('close', () => settle());
      });
    } finally {
      fs.closeSync(fd);
    }
  }

  /** HEAD a blob: true when the repository has it with the expected size. */
  async blobExists(repository: string, descriptor: BlobDescriptor): Promise<boolean> {
    const response = await this.call(
      { method: 'HEAD', path: `/v2/${repository}/blobs/${descriptor.digest}` },
      [`repository:${repository}:pull,push`],
      `push to ${repository}`,
      (status) => status === 200 || status === 404,
    );
    response.discard();
    if (response.status !== 200) return false;
    const length = Number(response.header('content-length'));
    return !Number.isFinite(length) || length === descriptor.size;
  }

  /**
   * Asks the registry to link a blob from another repository instead of receiving it again.
   * Returns true when mounted; false when the registry wants an upload instead.
   */
  async mountBlob(repository: string, descriptor: BlobDescriptor, from: string): Promise<boolean> {
    const path = `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(descriptor.digest)}&from=${encodeURIComponent(from)}`;
    const response = await this.call(
      { method: 'POST', path },
      [`repository:${repository}:pull,push`, `repository:${from}:pull`],
      `push to ${repository}`,
      (status) => status === 201 || status === 202,
    );
    response.discard();
    if (response.status === 201) return true;
    // An upload session was opened instead; end it rather than leave it to expire.
    const location = response.header('location');
    if (location) {
      const url = new URL(location, response.url);
      await this.send(
        { method: 'DELETE', path: url },
        [`repository:${repository}:pull,push`],
        `push to ${repository}`,
      )
        .then((reply) => reply.discard())
        .catch(() => undefined);
    }
    return false;
  }

  /** Uploads a blob in one PUT (POST to open the session, PUT with the digest to close it). */
  async uploadBlob(
    repository: string,
    descriptor: BlobDescriptor,
    open: () => Readable,
    onProgress?: (progress: BlobProgress) => void,
  ): Promise<void> {
    const scopes = [`repository:${repository}:pull,push`];
    const what = `push to ${repository}`;
    await this.withRetry(what, async (attempt) => {
      if (attempt > 1)
        onProgress?.({ current: 0, total: descriptor.size, retrying: { attempt, reason: 'retrying' } });
      const started = await this.call(
        { method: 'POST', path: `/v2/${repository}/blobs/uploads/` },
        scopes,
        what,
        (status) => status === 202,
      );
      started.discard();
      const location = started.header('location');
      if (!location)
        throw new RegistryResponseError(
          `${this.registry}: the upload session for ${repository} has no Location`,
          202,
        );
      const url = new URL(location, started.url);
      url.searchParams.set('digest', descriptor.digest);
      let sent = 0;
      const response = await this.send(
        {
          method: 'PUT',
          path: url,
          headers: { 'Content-Type': 'application/octet-stream' },
          bodyLength: descriptor.size,
          body: () => {
            const stream = open();
            stream.on('data', (chunk: Buffer) => {
              sent += chunk.length;
              onProgress?.({ current: sent, total: descriptor.size });
            });
            return stream;
          },
        },
        scopes,
        what,
      );
      const body = await response.readBody(MAX_ERROR_BODY).catch(() => Buffer.alloc(0));
      if (response.status !== 201 && response.status !== 204) {
        const { codes } = registryErrorSummary(body);
        if (codes.includes('DIGEST_INVALID')) {
          throw new ImageFormatError(
            `${this.registry} says the content of ${descriptor.digest} does not match its digest`,
            {
              hint: 'the local copy of the blob is damaged; remove the image and pull or import it again',
            },
          );
        }
        throw this.statusError(response, `upload of ${descriptor.digest}`, body);
      }
    });
  }
}
