/**
 * An OpenSSH server of the test's own on 127.0.0.1 (Debian's /usr/sbin/sshd, never the system's
 * service): a free port, a throwaway host key and user key, its own sshd_config under a temporary
 * directory, started in the foreground (`-D -e -f`) and killed by the PID the test started. The
 * sessions it serves get the environment of a "remote" gantry host (its state root and cgroup
 * parent) through the config's SetEnv; clients reach it with GANTRY_SSH_COMMAND (`ssh -F` a config
 * that names the key and the known host), so the user's own ssh setup is never read or changed.
 */
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { testName, waitFor } from './engine.js';
import { needsFile } from './skip.js';

export const SSHD = '/usr/sbin/sshd';

/** Why sshd tests cannot run here (Debian package openssh-server). */
export function needsSshd(): ReturnType<typeof needsFile> {
  return needsFile([SSHD], 'the OpenSSH server', 'openssh-server');
}

export interface TestSshd {
  port: number;
  /** ssh://root@127.0.0.1:PORT followed by `gantryPath`. */
  url(gantryPath?: string): string;
  /** The client environment: GANTRY_SSH_COMMAND with this server's client config. */
  clientEnv: Record<string, string>;
  /** The listener's PID (the process the test started; a new one after restart). */
  readonly pid: number;
  /**
   * Kills the listener and the per-connection sshd processes it forked (a host that drops); the
   * processes of the sessions are left to notice their end.
   */
  kill(): void;
  /** Kills it (as kill does) and starts it again on the same port with the same keys: the host is back. */
  restart(): Promise<void>;
  /** What sshd wrote on its stderr. */
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Children of `pid` (from /proc), recursively. */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

export interface SshdOptions {
  /**
   * A network namespace of the test's own (`ip netns` name): the server listens on its 127.0.0.1,
   * its sessions run there, and `clientEnv`'s ssh enters it too (nsenter), so the remote service
   * reaches only what the test serves in that namespace (a registry).
   */
  netns?: string;
}

export async function startSshd(
  remoteEnv: Record<string, string>,
  options: SshdOptions = {},
): Promise<TestSshd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('sshd')}-`));
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'user_key')]);
  fs.copyFileSync(path.join(dir, 'user_key.pub'), path.join(dir, 'authorized_keys'));
  // sshd refuses to start without its privilege separation directory (Debian makes it at boot
  // of the service, which is not running here).
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const setEnv = Object.entries(remoteEnv)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  fs.writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${path.join(dir, 'host_key')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'MaxStartups 100',
      'MaxSessions 100',
      `SetEnv ${setEnv}`,
      'LogLevel INFO',
      '',
    ].join('\n'),
  );
  const hostKey = fs.readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim();
  fs.writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
  fs.writeFileSync(
    path.join(dir, 'ssh_config'),
    [
      'Host 127.0.0.1',
      `  IdentityFile ${path.join(dir, 'user_key')}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );
  let log = '';
  let child!: ResultPromise;
  let pid = 0;
  /** Starts the listener (again, after a kill: the same port, keys and config). */
  const launch = async () => {
    const from = log.length;
    const sshd = [SSHD, '-D', '-e', '-f', path.join(dir, 'sshd_config')];
    // nsenter execs sshd in place: the PID is the listener's.
    const [file, ...args] = options.netns
      ? ['nsenter', `--net=/run/netns/${options.netns}`, '--', ...sshd]
      : sshd;
    child = execa(file!, args, {
      reject: false,
      stdin: 'ignore',
      buffer: false,
    });
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    pid = child.pid!;
    await waitFor(
      () => log.slice(from).includes(`Server listening on 127.0.0.1 port ${port}`) || undefined,
      60_000,
      `sshd to listen on 127.0.0.1:${port} (its log: ${log})`,
    );
  };
  await launch();
  // Only sshd's own processes: what runs in a session (the gantry service) must notice by itself.
  const kill = () => {
    const sshds = descendants(pid).filter((child) => {
      try {
        return fs.readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'sshd';
      } catch {
        return false;
      }
    });
    for (const target of [pid, ...sshds]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  };
  return {
    port,
    get pid() {
      return pid;
    },
    url: (gantryPath = '') => `ssh://root@127.0.0.1:${port}${gantryPath}`,
    clientEnv: {
      GANTRY_SSH_COMMAND: `${options.netns ? `nsenter --net=/run/netns/${options.netns} -- ` : ''}ssh -F ${path.join(dir, 'ssh_config')}`,
    },
    kill,
    async restart() {
      kill();
      await child;
      await launch();
    },
    log: () => log,
    async stop() {
      kill();
      await child;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
