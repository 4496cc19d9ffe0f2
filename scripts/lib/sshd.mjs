// An OpenSSH server of our own on 127.0.0.1 (Debian's /usr/sbin/sshd, never the system's service),
// for the tests (through test/support/sshd.ts), the screenshots and the remote bench alike: a free
// port, throwaway host and user keys, its own sshd_config under a temporary directory, started in
// the foreground (`-D -e -f`) and killed by the PID started here. The sessions it serves get the
// environment of a "remote" gantry host (its state root and cgroup parent) through the config's
// SetEnv; clients reach it with GANTRY_SSH_COMMAND (`ssh -F` a config that names the key and the
// known host), so the user's own ssh setup is never read or changed.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export const SSHD = '/usr/sbin/sshd';

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Children of `pid` (from /proc), recursively. */
function descendants(pid) {
  let children = [];
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

/** Starts the server; see sshd.d.mts for what the handle offers. */
export async function startSshd(remoteEnv, { tempPrefix = 'gantry-sshd', netns } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${tempPrefix}-`));
  for (const key of ['host_key', 'user_key'])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, key)]);
  fs.copyFileSync(path.join(dir, 'user_key.pub'), path.join(dir, 'authorized_keys'));
  // sshd refuses to start without its privilege separation directory (Debian makes it at boot
  // of the service, which is not running here).
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  // Each quoted: a value may hold spaces (a trace phase such as "create: name reserved").
  const setEnv = Object.entries(remoteEnv)
    .map(([key, value]) => `"${key}=${value}"`)
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
  let child;
  let exited = Promise.resolve();
  // Deadlines stretch with GANTRY_TEST_TIME_SCALE, as the tests' waitFor does.
  const scale = Math.max(1, Number(process.env.GANTRY_TEST_TIME_SCALE) || 1);
  /** Starts the listener (again, after a kill: the same port, keys and config). */
  const launch = async () => {
    const from = log.length;
    const sshd = [SSHD, '-D', '-e', '-f', path.join(dir, 'sshd_config')];
    // nsenter execs sshd in place: the PID is the listener's.
    const [file, ...args] = netns ? ['nsenter', `--net=/run/netns/${netns}`, '--', ...sshd] : sshd;
    child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const started = child;
    exited = new Promise((resolve) => {
      if (started.exitCode !== null || started.signalCode !== null) resolve();
      else started.once('exit', () => resolve());
    });
    child.stderr.on('data', (chunk) => (log += chunk.toString()));
    const deadline = Date.now() + 60_000 * scale;
    while (!log.slice(from).includes(`Server listening on 127.0.0.1 port ${port}`)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`sshd did not listen on 127.0.0.1:${port} (its log: ${log})`);
      await delay(25);
    }
  };
  await launch();
  // Only sshd's own processes: what runs in a session (a gantry service) must notice by itself.
  const kill = () => {
    const sshds = descendants(child.pid).filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sshd';
      } catch {
        return false;
      }
    });
    for (const target of [child.pid, ...sshds]) {
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
      return child.pid;
    },
    url: (gantryPath = '') => `ssh://root@127.0.0.1:${port}${gantryPath}`,
    clientEnv: {
      GANTRY_SSH_COMMAND: `${netns ? `nsenter --net=/run/netns/${netns} -- ` : ''}ssh -F ${path.join(dir, 'ssh_config')}`,
    },
    kill,
    async restart() {
      kill();
      await exited;
      await launch();
    },
    log: () => log,
    stop() {
      // Killed and removed at once (callers' cleanups are synchronous); the promise is its exit.
      kill();
      fs.rmSync(dir, { recursive: true, force: true });
      return exited;
    },
  };
}
