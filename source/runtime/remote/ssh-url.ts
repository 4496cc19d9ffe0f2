/**
 * `ssh://[user@]host[:port][/path/to/gantry]`: where a remote engine is and which gantry serves
 * it there. The path is the remote gantry's (default `gantry`, found on the remote PATH).
 */
import { InvalidArgumentError } from '../errors.js';

export interface SshTarget {
  /** The address as given (errors and the TUI's host column say it). */
  url: string;
  user?: string;
  host: string;
  port?: number;
  /** The remote gantry to run: a path, or a command on the remote PATH. */
  gantry: string;
  /** A private key for this connection (`connection add --identity`), besides the agent's. */
  identity?: string;
}

const ACCEPTED =
  'give ssh://[user@]host[:port][/path/to/gantry], or the name of a connection (`gantry connection ls`)';

export function parseSshUrl(text: string): SshTarget {
  if (!text.startsWith('ssh://')) {
    throw new InvalidArgumentError(`invalid host ${JSON.stringify(text)}: only ssh:// addresses are served`, {
      hint: ACCEPTED,
    });
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(`invalid host ${JSON.stringify(text)}: not a URL`, { hint: ACCEPTED });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host || url.password || url.search || url.hash) {
    throw new InvalidArgumentError(
      `invalid host ${JSON.stringify(text)}: ${!host ? 'no host name' : url.password ? 'a password in the address (ssh asks for it, or use a key)' : 'a query or fragment'}`,
      { hint: ACCEPTED },
    );
  }
  // ssh would take these as options.
  if (host.startsWith('-') || decodeURIComponent(url.username).startsWith('-')) {
    throw new InvalidArgumentError(`invalid host ${JSON.stringify(text)}: a name may not begin with "-"`, {
      hint: ACCEPTED,
    });
  }
  const path = decodeURIComponent(url.pathname);
  return {
    url: text,
    ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
    host,
    ...(url.port ? { port: Number(url.port) } : {}),
    gantry: path && path !== '/' ? path : 'gantry',
  };
}

/** A word for the remote shell, quoted so it stays one word whatever it holds. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The ssh command line: the user's own client (or GANTRY_SSH_COMMAND's words, as GIT_SSH_COMMAND),
 * with their config and agent; batch mode (a password prompt would hang a TUI), keep-alives so a
 * host that vanishes is noticed, and no escape character on the binary-clean stream; `extra` are
 * options of ours (the shared connection's, see control-path.ts).
 */
export function sshCommand(
  target: SshTarget,
  remoteArgs: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  extra: readonly string[] = [],
): { file: string; args: string[] } {
  const [file = 'ssh', ...base] = (env.GANTRY_SSH_COMMAND ?? 'ssh').split(/\s+/).filter(Boolean);
  const args = [
    ...base,
    '-T',
    '-e',
    'none',
    '-o',
    'BatchMode=yes',
    '-o',
    'ServerAliveInterval=10',
    '-o',
    'ServerAliveCountMax=3',
    ...extra,
    ...(target.port ? ['-p', String(target.port)] : []),
    ...(target.identity ? ['-i', target.identity] : []),
    ...(target.user ? ['-l', target.user] : []),
    '--',
    target.host,
    [target.gantry, ...remoteArgs].map(shellQuote).join(' '),
  ];
  return { file, args };
}
