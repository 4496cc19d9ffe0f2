// An OpenSSH server of a script's own on 127.0.0.1 (Debian's /usr/sbin/sshd, never the system's
// service), as test/support/sshd.ts makes for the tests: a free port, throwaway host and user keys,
// its own sshd_config whose SetEnv gives sessions a "remote" gantry's environment, and an ssh
// client config for GANTRY_SSH_COMMAND, so the user's own ssh setup is never read or changed.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

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

/** Starts the server; `stop()` kills it (by the PID started here) and removes its directory. */
export async function startSshd(remoteEnv) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-sshd-'));
  for (const key of ['host_key', 'user_key'])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, key)]);
  fs.copyFileSync(path.join(dir, 'user_key.pub'), path.join(dir, 'authorized_keys'));
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
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      `SetEnv ${setEnv}`,
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
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.on('data', (chunk) => (log += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!log.includes(`Server listening on 127.0.0.1 port ${port}`)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`sshd did not start: ${log}`);
    await delay(50);
  }
  return {
    port,
    url: (gantryPath = '') => `ssh://root@127.0.0.1:${port}${gantryPath}`,
    clientEnv: { GANTRY_SSH_COMMAND: `ssh -F ${path.join(dir, 'ssh_config')}` },
    stop() {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
