/**
 * The HTTP layer under the registry client, on node:http/https rather than fetch: it needs
 * certificate checks that can be turned off per registry, plain HTTP, redirects that drop the
 * Authorization header when they leave the registry (blob downloads are often sent to storage
 * elsewhere), request bodies streamed from files, and errors that keep the socket's error code.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { RegistryConnectionError, RegistryResponseError } from './errors.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequestOptions {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  /** Bytes, or a function that opens the body as a fresh stream (it is read once per attempt). */
  body?: Buffer | (() => Readable);
  /** Length of a streamed body (sent as Content-Length). */
  bodyLength?: number;
  /** Default: true for GET and HEAD. */
  followRedirects?: boolean;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  url: URL;
  stream: IncomingMessage;
  header(name: string): string | undefined;
  /** Reads the whole body; fails when it is longer than `limit` bytes. */
  readBody(limit: number): Promise<Buffer>;
  /** Drops the body (lets the connection be reused when it is small). */
  discard(): void;
}

export interface HttpTransportOptions {
  /** Check the server's certificate (default true). */
  tlsVerify?: boolean;
  /** Socket inactivity before a request fails (default 60 s). */
  timeoutMs?: number;
  userAgent?: string;
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** The socket-level error code behind a connection failure ("ECONNREFUSED", "EPROTO", ...). */
export function connectionErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/** TLS errors that mean "the server does not speak TLS here", as a plain HTTP registry does. */
export function isTlsProtocolMismatch(error: unknown): boolean {
  const code = connectionErrorCode(error);
  const message = error instanceof Error ? `${error.message} ${String((error.cause as Error)?.message)}` : '';
  return (
    code === 'EPROTO' ||
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
    /wrong version number|packet length too long|unknown protocol/i.test(message)
  );
}

/** Certificate problems that --tls-verify=false would get past. */
export function isCertificateError(error: unknown): boolean {
  const code = connectionErrorCode(error) ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID/.test(code);
}

function describeConnectionError(error: Error): string {
  const code = connectionErrorCode(error);
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to host';
    default:
      return code ? `${error.message.replace(/^.*?: /, '')} (${code})` : error.message;
  }
}

export class HttpTransport {
  private readonly tlsVerify: boolean;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  private readonly httpsAgent: https.Agent;

  constructor(options: HttpTransportOptions = {}) {
    this.tlsVerify = options.tlsVerify ?? true;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.userAgent = options.userAgent ?? 'gantry/0.1';
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: this.tlsVerify });
  }

  /** Closes idle keep-alive connections so the process can exit. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  async request(options: HttpRequestOptions): Promise<HttpResponse> {
    const follow = options.followRedirects ?? (options.method === 'GET' || options.method === 'HEAD');
    let url = options.url;
    let headers = { ...options.headers };
    for (let redirects = 0; ; redirects += 1) {
      const response = await this.send({ ...options, url, headers });
      if (!follow || !REDIRECT_STATUSES.has(response.status)) return response;
      const location = response.header('location');
      response.discard();
      if (!location) {
        throw new RegistryResponseError(
          `${url.host} answered ${response.status} to ${options.method} ${url.pathname} without a Location`,
          response.status,
        );
      }
      if (redirects >= MAX_REDIRECTS) {
        throw new RegistryResponseError(
          `too many redirects for ${options.method} ${options.url.href}`,
          undefined,
        );
      }
      const next = new URL(location, url);
      // Credentials are for the registry; storage behind a redirect gets a signed URL instead.
      if (next.origin !== url.origin) {
        headers = Object.fromEntries(
          Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'),
        );
      }
      url = next;
    }
  }

  private send(options: HttpRequestOptions): Promise<HttpResponse> {
    const { url } = options;
    const isHttps = url.protocol === 'https:';
    const module = isHttps ? https : http;
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...options.headers };
    if (Buffer.isBuffer(options.body)) headers['Content-Length'] = String(options.body.length);
    else if (options.body !== undefined && options.bodyLength !== undefined) {
      headers['Content-Length'] = String(options.bodyLength);
    } else if (options.body === undefined && (options.method === 'PUT' || options.method === 'POST')) {
      headers['Content-Length'] = '0';
    }
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        reject(
          new RegistryConnectionError(
            `${options.method} ${url.origin}${url.pathname}: ${describeConnectionError(error)}`,
            { cause: error },
          ),
        );
      };
      const request = module.request(url, {
        method: options.method,
        headers,
        agent: isHttps ? this.httpsAgent : this.httpAgent,
        signal: options.signal,
      });
      request.setTimeout(this.timeoutMs, () => {
        const error = Object.assign(new Error(`no data for ${this.timeoutMs / 1000} s`), {
          code: 'ETIMEDOUT',
        });
        request.destroy(error);
      });
      request.on('error', fail);
      request.on('response', (message) => {
        settled = true;
        // Inactivity while the body streams fails the body read instead of hanging.
        message.setTimeout(this.timeoutMs, () => {
          message.destroy(
            Object.assign(new Error('the registry stopped sending data'), { code: 'ETIMEDOUT' }),
          );
        });
        resolve(wrapResponse(message, url));
      });
      if (options.body === undefined) request.end();
      else if (Buffer.isBuffer(options.body)) request.end(options.body);
      else {
        const body = options.body();
        body.on('error', (error) => request.destroy(error));
        body.pipe(request);
      }
    });
  }
}

function wrapResponse(message: IncomingMessage, url: URL): HttpResponse {
  return {
    status: message.statusCode ?? 0,
    statusText: message.statusMessage ?? '',
    headers: message.headers,
    url,
    stream: message,
    header(name) {
      const value = message.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    async readBody(limit) {
      const chunks: Buffer[] = [];
      let length = 0;
      try {
        for await (const chunk of message) {
          length += (chunk as Buffer).length;
          if (length > limit) {
            message.destroy();
            throw new RegistryResponseError(
              `${url.host}: the response to ${url.pathname} is larger than ${limit} bytes`,
              message.statusCode,
            );
          }
          chunks.push(chunk as Buffer);
        }
      } catch (error) {
        if (error instanceof RegistryResponseError) throw error;
        throw new RegistryConnectionError(
          `${url.host}: the connection dropped while reading ${url.pathname}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      return Buffer.concat(chunks);
    },
    discard() {
      message.resume();
      message.on('error', () => undefined);
    },
  };
}
