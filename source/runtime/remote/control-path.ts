/**
 * Where the CLI's ssh connection masters listen, so that one ssh connection per host serves every
 * command for a while (ssh's ControlMaster=auto, ControlPersist): a second `gantry --host` command
 * pays no key exchange or login, only a new session on the open connection, as podman's connection
 * reuse and a ControlMaster in the user's own ssh config do. The sockets live in a directory of
 * our own, 0700 and owned by this user ($XDG_RUNTIME_DIR/gantry/ssh, else <state root>/ssh): a
 * socket there lets whoever reaches it run commands as the user on every host it is connected to.
 */
import fs from 'node:fs';
import path from 'node:path';

/** How long a master outlives its last command: short, it is a process of ours left running. */
export const CONTROL_PERSIST_SECONDS = 30;

/**
 * The longest socket path the kernel takes (sun_path is 108 bytes with its NUL), less what ssh
 * adds while it sets the master up (".XXXXXXXXXXXXXXXX", then renamed to the final name).
 */
const SOCKET_PATH_LIMIT = 107 - 17;
/** %C: a hash of the local host, remote host, port and user (40 hex digits). */
const CONNECTION_HASH_LENGTH = 40;

/** ssh options of the user's own that choose multiplexing: then theirs is kept, not ours. */
const USER_CHOICE = /Control(Master|Path|Persist)\b|(^|\s)-[SM](\s|$)/;

export interface ControlOptions {
  /** The state root (the fallback when there is no runtime directory). */
  root: string;
  env?: NodeJS.ProcessEnv;
}

/** Makes `directory` (the last component only) 0700, or takes it if it is ours and private. */
function privateDirectory(directory: string): boolean {
  try {
    fs.mkdirSync(path.dirname(directory), { recursive: true, mode: 0o700 });
    try {
      fs.mkdirSync(directory, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    }
    // Not followed: a symlink planted here (or a directory of someone else's) is refused.
    const stats = fs.lstatSync(directory);
    const uid = process.getuid?.() ?? stats.uid;
    if (!stats.isDirectory() || stats.uid !== uid) return false;
    if ((stats.mode & 0o077) !== 0) fs.chmodSync(directory, 0o700);
    return true;
  } catch {
    return false;
  }
}

/**
 * The directory for the masters' sockets, made private; undefined when none can be had (an
 * unwritable root, a path too long for a socket, or the user's ssh command choosing for itself),
 * and then each command opens its own connection as before.
 */
export function controlDirectory(options: ControlOptions): string | undefined {
  const env = options.env ?? process.env;
  if (USER_CHOICE.test(env.GANTRY_SSH_COMMAND ?? '')) return undefined;
  const candidates = [
    ...(env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR)
      ? [path.join(env.XDG_RUNTIME_DIR, 'gantry', 'ssh')]
      : []),
    path.join(options.root, 'ssh'),
  ];
  for (const directory of candidates) {
    if (directory.length + 1 + CONNECTION_HASH_LENGTH > SOCKET_PATH_LIMIT) continue;
    if (privateDirectory(directory)) return directory;
  }
  return undefined;
}

/** The ssh options that share one connection per host through sockets in `directory`. */
export function controlArgs(directory: string): string[] {
  return [
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${path.join(directory, '%C')}`,
    '-o',
    `ControlPersist=${CONTROL_PERSIST_SECONDS}`,
  ];
}
