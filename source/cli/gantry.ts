/**
 * `gantry`: with no command in a terminal it opens the TUI; otherwise it runs one docker-style
 * command. Only the modules a command needs are loaded (never ink or react on the CLI path).
 */
import fs from 'node:fs';
import { parseArgs, UsageError, type CommandSpec } from './args.js';
import { createContext } from './context.js';
import { exitQuietlyOnClosedPipe, reportError } from './errors.js';
import { COMMANDS, findCommand, resolveManagementCommand } from './registry.js';
import { isDiskFull, NoSpaceError } from '../runtime/errors.js';
import { resolveEngineOptions } from '../runtime/paths.js';
import { trace } from '../runtime/trace.js';
import { VERSION } from './version.js';

const GLOBAL: CommandSpec = {
  name: '',
  usage: '[OPTIONS] COMMAND',
  description: 'A daemonless container engine with a terminal UI',
  stopAtFirstPositional: true,
  options: [
    {
      name: 'root',
      type: 'string',
      placeholder: 'dir',
      description: 'State root directory (default /var/lib/gantry, or $GANTRY_ROOT)',
    },
    {
      name: 'cgroup-parent',
      type: 'string',
      placeholder: 'name',
      description: 'Cgroup directory for containers (default "gantry", or $GANTRY_CGROUP_PARENT)',
    },
    {
      name: 'host',
      short: 'H',
      type: 'list',
      placeholder: 'ssh://[user@]host[:port][/path/to/gantry]',
      description: 'The host whose engine to use, over ssh (default this machine, or $GANTRY_HOST)',
    },
    { name: 'version', short: 'v', type: 'boolean', description: 'Print version information and quit' },
  ],
};

/**
 * The hosts the TUI shows beside this machine: each --host given (repeatable; "local" alone means
 * this machine only), else $GANTRY_HOST, else every named connection, as podman-tui lists all of
 * a user's connections.
 */
async function tuiHosts(flags: readonly string[] = []): Promise<string[]> {
  const given = flags.length > 0 ? flags : process.env.GANTRY_HOST ? [process.env.GANTRY_HOST] : undefined;
  if (given) return [...new Set(given.filter((host) => host !== 'local'))];
  const { connectionsPath, readConnections } = await import('../runtime/remote/connections.js');
  if (!fs.existsSync(connectionsPath())) return [];
  return Object.keys(readConnections().connections);
}

/**
 * Commands that work on a remote host (--host): they take the engine as a HostEngine. The rest
 * name local files or local-only state, and refuse a host rather than act on this machine.
 */
const REMOTE_COMMANDS = new Set([
  'ps',
  'inspect',
  'create',
  'run',
  'start',
  'stop',
  'restart',
  'kill',
  'rm',
  'pause',
  'unpause',
  'update',
  'logs',
  'wait',
  'events',
  'stats',
  'exec',
  'attach',
  'cp',
  'images',
  'image',
  'rmi',
  'pull',
  'volume',
  'network',
]);

/**
 * Of the commands with verbs, those that work on a remote host; the others name local files
 * (import, export, build) or change what the protocol does not serve yet.
 */
const REMOTE_VERBS: Record<string, readonly string[]> = {
  image: ['ls', 'list', 'tree', 'inspect', 'rm', 'pull'],
  volume: ['ls', 'list'],
  network: ['ls', 'list'],
};

function usage(): string {
  const lines = [
    'Usage:  gantry [OPTIONS] COMMAND',
    '',
    'A daemonless container engine with a terminal UI. Run `gantry` with no command to open the TUI.',
    '',
  ];
  for (const group of ['Containers', 'Images', 'Other'] as const) {
    const commands = COMMANDS.filter((c) => c.group === group && !c.hidden);
    if (commands.length === 0) continue;
    lines.push(`${group}:`);
    for (const command of commands) lines.push(`  ${command.name.padEnd(12)} ${command.description}`);
    lines.push('');
  }
  lines.push('Global options:');
  lines.push('  --root dir            State root directory (default /var/lib/gantry, or $GANTRY_ROOT)');
  lines.push('  --cgroup-parent name  Cgroup directory for containers (default "gantry")');
  lines.push('  -H, --host address    ssh://[user@]host[:port][/path/to/gantry] (or $GANTRY_HOST)');
  lines.push('  -v, --version         Print version information and quit');
  lines.push('', "Run 'gantry COMMAND --help' for more information on a command.");
  return `${lines.join('\n')}\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  trace('cli: main');
  let global;
  try {
    global = parseArgs(GLOBAL, argv);
  } catch (error) {
    return reportError(
      error instanceof UsageError
        ? new UsageError(error.message.replace("See 'gantry  --help'.", "See 'gantry --help'."))
        : error,
      process.stderr,
    );
  }
  if (global.options.version) {
    process.stdout.write(`gantry version ${VERSION}\n`);
    return 0;
  }
  const engineOptions = resolveEngineOptions({
    root: global.options.root as string | undefined,
    cgroupParent: global.options['cgroup-parent'] as string | undefined,
  });
  const [first, ...given] = global.args;
  const { name, rest } =
    first === undefined ? { name: first, rest: given } : resolveManagementCommand(first, given);
  if (global.help || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (name === undefined || name === 'tui') {
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      process.stdout.write(usage());
      return name === 'tui' ? 125 : 0;
    }
    const { runTui } = await import('../tui/run.js');
    return runTui(engineOptions, undefined, await tuiHosts(global.options.host as string[] | undefined));
  }
  const entry = findCommand(name);
  if (!entry) {
    process.stderr.write(`gantry: '${name}' is not a gantry command.\nSee 'gantry --help'.\n`);
    return 125;
  }
  exitQuietlyOnClosedPipe(process.stdout, process.stderr);
  // A failure nothing awaited (a stream's 'error' with no listener) is reported like any other,
  // never as a stack trace.
  process.on('uncaughtException', (error) => {
    process.exitCode = reportError(withPath(error, engineOptions.root), process.stderr);
    process.exit();
  });
  // --host, else GANTRY_HOST, else the default connection (for commands that work remotely);
  // "local" is this machine. The service itself never follows one (that would chain hosts).
  const hostFlags = (global.options.host as string[] | undefined) ?? [];
  if (hostFlags.length > 1) {
    process.stderr.write(
      `gantry: a command runs on one host, --host was given ${hostFlags.length} times\nhint: give --host once; the TUI (gantry with no command) shows several hosts side by side\n`,
    );
    return 125;
  }
  const explicit = hostFlags[0] ?? (process.env.GANTRY_HOST || undefined);
  let host = explicit === 'local' || (name === 'system' && hostFlags.length === 0) ? undefined : explicit;
  const verbs = REMOTE_VERBS[name];
  const { relayRefusal, verbOf } = await import('./relayed.js');
  const verb = verbOf(rest);
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  // `image --help`, or a verb the protocol serves.
  const verbServed = !verbs || verb === undefined || wantsHelp || verbs.includes(verb);
  const served = REMOTE_COMMANDS.has(name) && verbServed;
  // The rest, when nothing in them names this machine, the host runs whole (relayed.ts).
  const relayable = !served && !wantsHelp && relayRefusal([name, ...rest], 'x') === undefined;
  if (explicit === undefined && (served || relayable) && name !== 'system') {
    const { connectionsPath, readConnections } = await import('../runtime/remote/connections.js');
    if (fs.existsSync(connectionsPath())) host = readConnections().default;
  }
  if (host !== undefined && !served && !wantsHelp && !relayable) {
    process.stderr.write(
      `gantry: ${relayRefusal([name, ...rest], host)}\nhint: run it on that host, or leave out --host and GANTRY_HOST\n`,
    );
    return 125;
  }
  const context = createContext(engineOptions, host, verbs && verb ? `${name} ${verb}` : name);
  if (host !== undefined) {
    const words = [name, ...rest];
    context.relay = async () => (await import('./relay-command.js')).relayToHost(context, words);
  }
  try {
    if (host !== undefined && relayable) {
      trace(`cli: ${name} relayed to ${host}`);
      return await context.relay!();
    }
    const command = await entry.load();
    trace(`cli: ${name} loaded`);
    const parsed = parseArgs(command.spec, rest);
    if (parsed.help) {
      const { formatHelp } = await import('./args.js');
      process.stdout.write(formatHelp(command.spec));
      return 0;
    }
    return await command.run(parsed, context);
  } catch (error) {
    const code = reportError(withPath(error, engineOptions.root), process.stderr);
    // docker: run/create/start/exec use 125/126/127; other commands fail with 1; flag errors 125.
    return ENGINE_CODES.has(name) || error instanceof UsageError ? code : 1;
  } finally {
    await context.close?.();
  }
}

const ENGINE_CODES = new Set(['run', 'create', 'start', 'exec']);

/**
 * A full disk that no part of the engine named (a write to a descriptor has no path): named by the
 * file Node knows of, or else by the state root it was writing under.
 */
function withPath(error: unknown, root: string): unknown {
  if (!isDiskFull(error) || error instanceof NoSpaceError) return error;
  const file = (error as NodeJS.ErrnoException).path;
  return file
    ? new NoSpaceError(file, { cause: error })
    : new NoSpaceError(root, { cause: error, under: true });
}
