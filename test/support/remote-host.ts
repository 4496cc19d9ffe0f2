/**
 * The "remote host" of the ssh tests, made once per suite: a second state root with the demo
 * image (its containers on no network), an OpenSSH server of the test's own on 127.0.0.1 whose
 * sessions run this checkout's gantry against that root, and this machine's own empty root with
 * a config directory of the test's (so the user's connections and ssh setup never apply). Every
 * remote ssh suite sets up through here; what each checks stays in its own file.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createEngineWithImage, GANTRY, testName, type TestEngine } from './engine.js';
import { startSshd, type TestSshd } from './sshd.js';

export interface RemoteHost {
  /** The remote root, for commands given to it directly and to check what a command did there. */
  readonly remote: TestEngine;
  readonly sshd: TestSshd;
  /** The ssh:// address of the remote gantry. */
  readonly url: string;
  /** A scratch directory of the suite (removed after it). */
  readonly work: string;
  /** This machine's own state root: a --host command leaves nothing in it. */
  readonly localRoot: string;
  /** The environment of a client on this machine: the test server's ssh config and its own root. */
  clientEnv(extra?: Record<string, string>): Record<string, string>;
  /** `gantry ARGS` on this machine (never rejects); add `--host url` to reach the remote host. */
  client(args: readonly string[], options?: ClientOptions): Promise<ClientResult>;
  /** What is in this machine's root besides the config directory: [] when nothing landed here. */
  localLeftovers(): string[];
}

export interface ClientOptions {
  input?: string | Buffer;
  inputFile?: string;
  cwd?: string;
  env?: Record<string, string>;
}

export interface ClientResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RemoteHostOptions {
  /** The gantry the address names on the remote side (default this checkout's), made in `work`. */
  gantryPath?: (work: string) => string;
}

/**
 * Registers the suite's beforeAll/afterAll: the returned object's fields are usable in its tests
 * and in hooks registered after this call.
 */
export function remoteHostForSuite(label: string, options: RemoteHostOptions = {}): RemoteHost {
  let remote: TestEngine | undefined;
  let sshd: TestSshd | undefined;
  let work: string | undefined;
  let url: string | undefined;
  const made = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`the ${label} remote host is made in beforeAll`);
    return value;
  };

  beforeAll(async () => {
    remote = await createEngineWithImage(label, { hostNetwork: true });
    sshd = await startSshd({ ...remote.env, GANTRY_DEFAULT_NETWORK: 'none' });
    work = fs.mkdtempSync(path.join(os.tmpdir(), `${testName(`${label}-work`)}-`));
    fs.mkdirSync(path.join(work, 'local-root'));
    url = sshd.url(options.gantryPath ? options.gantryPath(work) : GANTRY);
  });

  afterAll(async () => {
    try {
      await remote?.cleanup();
    } finally {
      await sshd?.stop();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    }
  });

  const host: RemoteHost = {
    get remote() {
      return made(remote);
    },
    get sshd() {
      return made(sshd);
    },
    get url() {
      return made(url);
    },
    get work() {
      return made(work);
    },
    get localRoot() {
      return path.join(made(work), 'local-root');
    },
    clientEnv: (extra = {}) => ({
      ...made(sshd).clientEnv,
      GANTRY_ROOT: host.localRoot,
      GANTRY_HOST: '',
      XDG_CONFIG_HOME: path.join(host.localRoot, 'config'),
      ...extra,
    }),
    async client(args, given = {}) {
      const result = await execa(GANTRY, args, {
        env: host.clientEnv(given.env),
        cwd: given.cwd ?? host.work,
        reject: false,
        ...(given.input !== undefined
          ? { input: given.input }
          : given.inputFile
            ? { inputFile: given.inputFile }
            : { stdin: 'ignore' as const }),
      });
      return {
        stdout: String(result.stdout),
        stderr: String(result.stderr),
        exitCode: result.exitCode ?? 128,
      };
    },
    localLeftovers: () => fs.readdirSync(host.localRoot).filter((name) => name !== 'config'),
  };
  return host;
}
