/**
 * Real registries for the registry tests: Debian's docker-registry (distribution 2.8) on
 * 127.0.0.1 with a random port and filesystem storage in a temporary directory, anonymous, with
 * htpasswd (bcrypt) basic auth, or with a token realm served by a small token server written
 * here (RS256 JWTs whose x5c certificate the registry trusts through its rootcertbundle). A fault
 * proxy sits in front of a registry when a test needs 500s, dropped connections or corrupted
 * bytes, and logs every request so tests can count what was fetched.
 *
 * Every server listens on 127.0.0.1 only and is stopped by its PID / handle in `stop()`.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSign, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { hasCommand, type Buildah } from './support.js';
import { firstCause, needsCommand, type SkipCause } from '../../support/skip.js';

const execFileAsync = promisify(execFile);

/** What the registry tests need and this machine lacks, if anything. */
export const registryMissing: SkipCause | undefined = firstCause(
  needsCommand('docker-registry'),
  needsCommand('skopeo'),
  needsCommand('openssl'),
);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`docker-registry exited (${child.exitCode}):\n${fs.readFileSync(log, 'utf8')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const request = http.get(url, (response) => {
        response.resume();
        resolve(response.statusCode !== undefined);
      });
      request.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`docker-registry did not start:\n${fs.readFileSync(log, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A bcrypt htpasswd line: htpasswd -B when apache2-utils is there, else libcrypt via perl. */
export function htpasswdLine(user: string, password: string): string {
  if (hasCommand('htpasswd')) {
    return execFileSync('htpasswd', ['-nbB', '-C', '5', user, password], { encoding: 'utf8' }).trim();
  }
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const salt = Array.from(randomBytes(22), (byte) => alphabet[byte % 64]).join('');
  const hash = execFileSync('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, `$2b$05$${salt}`], {
    encoding: 'utf8',
  });
  if (!hash.startsWith('$2b$')) throw new Error('this libcrypt has no bcrypt; install apache2-utils');
  return `${user}:${hash}`;
}

export interface TokenServer {
  url: string;
  service: string;
  issuer: string;
  certificate: string;
  /** Token requests seen: query and the user that authenticated (undefined: anonymous). */
  requests: Array<{ scopes: string[]; user: string | undefined }>;
  stop(): Promise<void>;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** A new RSA key and a certificate for it, signed by itself, valid for two days. */
function selfSignedCertificate(
  key: string,
  certificate: string,
  subject: string,
  extra: string[] = [],
): void {
  const request = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', subject];
  execFileSync('openssl', [...request, '-keyout', key, '-out', certificate, ...extra], { stdio: 'ignore' });
}

/**
 * Issues tokens for `users`: a user with the right password gets every action asked for,
 * anonymous requests get a token without access (so the registry answers 401), a wrong
 * password gets 401 from here.
 */
export async function startTokenServer(
  directory: string,
  users: Record<string, string>,
): Promise<TokenServer> {
  fs.mkdirSync(directory, { recursive: true });
  const key = path.join(directory, 'token.key');
  const certificate = path.join(directory, 'token.crt');
  selfSignedCertificate(key, certificate, '/CN=gantry-test-token');
  const der = execFileSync('openssl', ['x509', '-in', certificate, '-outform', 'DER']);
  const privateKey = fs.readFileSync(key, 'utf8');
  const service = 'gantry-test-registry';
  const issuer = 'gantry-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const scopes = url.searchParams.getAll('scope');
    let user: string | undefined;
    const header = request.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const [name, password] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':', 2) as [
        string,
        string,
      ];
      if (users[name] !== password) {
        response.writeHead(401, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
        requests.push({ scopes, user: undefined });
        return;
      }
      user = name;
    }
    requests.push({ scopes, user });
    const access = user
      ? scopes.map((scope) => {
          const [type, ...rest] = scope.split(':');
          const actions = (rest.pop() ?? '').split(',');
          return { type, name: rest.join(':'), actions };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const head = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] }));
    const claims = base64url(
      JSON.stringify({
        iss: issuer,
        sub: user ?? '',
        aud: service,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomBytes(8).toString('hex'),
        access,
      }),
    );
    const signature = createSign('RSA-SHA256').update(`${head}.${claims}`).sign(privateKey);
    const token = `${head}.${claims}.${base64url(signature)}`;
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(
      JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certificate,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface Registry {
  /** "127.0.0.1:PORT" */
  host: string;
  port: number;
  pid: number;
  storage: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  htpasswd?: string;
  token?: TokenServer;
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 made here. */
  tls?: boolean;
  /**
   * Run inside this network namespace (`ip netns` name, one the test made): the registry is then
   * reachable only from that namespace's 127.0.0.1, where the test's engine runs gantry.
   */
  netns?: string;
}

/** Waits for docker-registry's "listening on" line (a registry in another namespace is not reachable from here). */
async function waitForListening(child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = fs.readFileSync(log, 'utf8');
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}):\n${text}`);
    if (/listening on /.test(text)) return;
    if (Date.now() > deadline) throw new Error(`docker-registry did not start:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts docker-registry on 127.0.0.1 with storage and config under `directory`. */
export async function startRegistry(directory: string, options: RegistryOptions = {}): Promise<Registry> {
  fs.mkdirSync(directory, { recursive: true });
  const storage = path.join(directory, 'storage');
  let auth = '';
  if (options.htpasswd !== undefined) {
    const file = path.join(directory, 'htpasswd');
    fs.writeFileSync(file, `${options.htpasswd}\n`);
    auth = `auth:\n  htpasswd:\n    realm: gantry-test\n    path: ${file}\n`;
  } else if (options.token) {
    auth =
      `auth:\n  token:\n    realm: ${options.token.url}\n    service: ${options.token.service}\n` +
      `    issuer: ${options.token.issuer}\n    rootcertbundle: ${options.token.certificate}\n`;
  }
  let tls = '';
  if (options.tls) {
    const key = path.join(directory, 'tls.key');
    const certificate = path.join(directory, 'tls.crt');
    selfSignedCertificate(key, certificate, '/CN=127.0.0.1', ['-addext', 'subjectAltName=IP:127.0.0.1']);
    tls = `  tls:\n    certificate: ${certificate}\n    key: ${key}\n`;
  }
  for (let attempt = 0; ; attempt += 1) {
    const port = await freePort();
    const config = path.join(directory, 'config.yml');
    fs.writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\n` +
        `http:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(16).toString('hex')}\n${tls}${auth}`,
    );
    const log = path.join(directory, 'registry.log');
    const output = fs.openSync(log, 'w');
    const command = options.netns
      ? ['nsenter', `--net=/run/netns/${options.netns}`, '--', 'docker-registry', 'serve', config]
      : ['docker-registry', 'serve', config];
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', output, output] });
    fs.closeSync(output);
    try {
      if (options.netns) await waitForListening(child, log);
      else await waitForHttp(`http://127.0.0.1:${port}/v2/`, child, log);
    } catch (error) {
      child.kill('SIGKILL');
      // Someone else took the port between probe and start: try another.
      if (attempt < 3 && /address already in use/.test(fs.readFileSync(log, 'utf8'))) continue;
      throw error;
    }
    return {
      host: `127.0.0.1:${port}`,
      port,
      pid: child.pid!,
      storage,
      stop: () =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          process.kill(child.pid!, 'SIGTERM');
        }),
    };
  }
}

export type FaultAction =
  | { status: number }
  /** Send the response headers and this many body bytes, then cut the connection. */
  | { dropAfter: number }
  /** Flip one byte of the body. */
  | { corrupt: true };

export interface FaultRule {
  method?: string;
  path: RegExp;
  action: FaultAction;
  /** How many matching requests get the fault (default: all). */
  times?: number;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
}

export interface FaultProxy {
  host: string;
  rules: FaultRule[];
  log: ProxiedRequest[];
  stop(): Promise<void>;
}

/** A proxy on 127.0.0.1 in front of `target` ("127.0.0.1:PORT") that injects faults by rule. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const [targetHost, targetPort] = target.split(':') as [string, string];
  const rules: FaultRule[] = [];
  const log: ProxiedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    const pathname = request.url ?? '/';
    const rule = rules.find(
      (candidate) =>
        (candidate.method === undefined || candidate.method === request.method) &&
        candidate.path.test(pathname) &&
        (candidate.times === undefined || candidate.times > 0),
    );
    if (rule && rule.times !== undefined) rule.times -= 1;
    const entry: ProxiedRequest = {
      method: request.method ?? '',
      path: pathname,
      range: request.headers.range,
      status: 0,
    };
    log.push(entry);
    if (rule && 'status' in rule.action) {
      entry.status = rule.action.status;
      request.resume();
      response.writeHead(rule.action.status, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected fault' }] }));
      return;
    }
    const upstream = http.request(
      {
        host: targetHost,
        port: Number(targetPort),
        method: request.method,
        path: pathname,
        headers: { ...request.headers, host: target },
      },
      (reply) => {
        entry.status = reply.statusCode ?? 0;
        const headers = { ...reply.headers };
        // Redirect locations point at the registry itself; keep clients on the proxy.
        if (typeof headers.location === 'string')
          headers.location = headers.location.replace(target, `127.0.0.1:${port}`);
        response.writeHead(reply.statusCode ?? 502, headers);
        if (rule && 'dropAfter' in rule.action) {
          let sent = 0;
          const limit = rule.action.dropAfter;
          reply.on('data', (chunk: Buffer) => {
            if (sent >= limit) return;
            const part = chunk.subarray(0, limit - sent);
            sent += part.length;
            if (sent < limit) {
              response.write(part);
              return;
            }
            reply.destroy();
            // Close the connection (FIN, not RST: the bytes sent must arrive) short of the length promised.
            response.write(part, () => response.socket?.end());
          });
          reply.on('end', () => response.end());
          return;
        }
        if (rule && 'corrupt' in rule.action) {
          let flipped = false;
          reply.on('data', (chunk: Buffer) => {
            if (!flipped && chunk.length > 0) {
              const copy = Buffer.from(chunk);
              copy[Math.floor(copy.length / 2)] = (copy[Math.floor(copy.length / 2)] as number) ^ 0xff;
              flipped = true;
              response.write(copy);
            } else response.write(chunk);
          });
          reply.on('end', () => response.end());
          return;
        }
        reply.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    rules,
    log,
    stop: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * skopeo copy into a registry over plain HTTP (optionally with credentials). Asynchronous: the
 * token server runs in this process and must keep answering while skopeo waits for it.
 */
export async function skopeoCopy(source: string, destination: string, extra: string[] = []): Promise<void> {
  await execFileAsync('skopeo', [
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    ...extra,
    source,
    destination,
  ]);
}

export interface SeedImages {
  /** OCI layout directories written by buildah, each with the tag "v1". */
  base: string;
  app: string;
  /** A buildah manifest list: this host's platform and one other. */
  multiList: string;
  hostArchitecture: string;
  otherArchitecture: string;
}

/**
 * Images built offline with buildah (vfs, private storage): "base" holds a static busybox with
 * sh/echo/cat links and /etc/release, "app" adds one layer on it, and a two-platform manifest
 * list whose images say their architecture in /platform.
 */
export async function buildSeedImages(buildah: Buildah, directory: string): Promise<SeedImages> {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((file) => fs.existsSync(file));
  if (!busybox) throw new Error('the registry tests need busybox-static');
  const populate = async (container: string, release: string): Promise<void> => {
    const mount = await buildah.run('mount', container);
    fs.mkdirSync(path.join(mount, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(mount, 'etc'), { recursive: true });
    fs.copyFileSync(busybox, path.join(mount, 'bin/busybox'));
    fs.chmodSync(path.join(mount, 'bin/busybox'), 0o755);
    for (const applet of ['sh', 'echo', 'cat', 'ls'])
      fs.symlinkSync('busybox', path.join(mount, 'bin', applet));
    fs.writeFileSync(path.join(mount, 'etc/release'), `${release}\n`);
    await buildah.run('umount', container);
  };
  await buildah.run('from', '--name', 'seed-base', 'scratch');
  await populate('seed-base', 'base');
  await buildah.run('config', '--cmd', '/bin/sh', '--env', 'PATH=/bin', 'seed-base');
  await buildah.run('commit', '--quiet', 'seed-base', 'localhost/seed/base:v1');

  await buildah.run('from', '--name', 'seed-app', 'localhost/seed/base:v1');
  const appMount = await buildah.run('mount', 'seed-app');
  fs.mkdirSync(path.join(appMount, 'app'));
  fs.writeFileSync(path.join(appMount, 'app/hello'), 'hello from app\n');
  await buildah.run('umount', 'seed-app');
  await buildah.run('commit', '--quiet', 'seed-app', 'localhost/seed/app:v1');

  const hostArchitecture = process.arch === 'x64' ? 'amd64' : process.arch;
  const otherArchitecture = hostArchitecture === 'arm64' ? 'amd64' : 'arm64';
  const images: string[] = [];
  for (const architecture of [hostArchitecture, otherArchitecture]) {
    const name = `seed-multi-${architecture}`;
    await buildah.run('from', '--arch', architecture, '--name', name, 'scratch');
    await populate(name, `multi ${architecture}`);
    const mount = await buildah.run('mount', name);
    fs.writeFileSync(path.join(mount, 'platform'), `${architecture}\n`);
    await buildah.run('umount', name);
    await buildah.run('config', '--arch', architecture, '--cmd', '/bin/sh', name);
    await buildah.run('commit', '--quiet', name, `localhost/seed/${name}:v1`);
    images.push(`localhost/seed/${name}:v1`);
  }
  await buildah.run('manifest', 'create', 'localhost/seed/multi:v1');
  for (const image of images)
    await buildah.run('manifest', 'add', 'localhost/seed/multi:v1', `containers-storage:${image}`);

  const base = path.join(directory, 'seed-base');
  const app = path.join(directory, 'seed-app');
  const multiList = path.join(directory, 'seed-multi');
  await buildah.run('push', '--quiet', 'localhost/seed/base:v1', `oci:${base}:v1`);
  await buildah.run('push', '--quiet', 'localhost/seed/app:v1', `oci:${app}:v1`);
  await buildah.run('manifest', 'push', '--quiet', '--all', 'localhost/seed/multi:v1', `oci:${multiList}:v1`);
  return { base, app, multiList, hostArchitecture, otherArchitecture };
}
