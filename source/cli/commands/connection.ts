/**
 * `gantry connection add|ls|rm|default`: named ssh addresses of remote hosts (podman's system
 * connection), for --host NAME, GANTRY_HOST=NAME and the TUI's hosts.
 */
import { bool, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { table } from '../format.js';
import { InvalidArgumentError, NotFoundError } from '../../runtime/errors.js';
import { changeConnections, checkConnectionName, readConnections } from '../../runtime/remote/connections.js';
import { parseSshUrl } from '../../runtime/remote/ssh-url.js';
import path from 'node:path';

const USAGE =
  'connection add [--identity FILE] [--default] NAME URL | ls [--format json] | rm NAME | default NAME';

export const spec: CommandSpec = {
  name: 'connection',
  usage: USAGE,
  description: 'Manage named connections to remote hosts (ssh://[user@]host[:port][/path/to/gantry])',
  minArgs: 1,
  options: [
    { name: 'identity', type: 'string', placeholder: 'file', description: 'add: the private key ssh uses' },
    { name: 'default', short: 'd', type: 'boolean', description: 'add: make it the default connection' },
    { name: 'format', type: 'string', description: 'ls: "json" for a JSON array' },
  ],
};

function arity(verb: string, args: readonly string[], count: number): void {
  if (args.length !== count)
    throw new InvalidArgumentError(
      `connection ${verb} takes ${count} argument${count === 1 ? '' : 's'}, got ${args.length}`,
      {
        hint: `usage: gantry ${USAGE}`,
      },
    );
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [verb, ...args] = parsed.args;
  switch (verb) {
    case 'add': {
      arity('add', args, 2);
      const [name, url] = args as [string, string];
      checkConnectionName(name);
      parseSshUrl(url);
      const identity = str(parsed.options, 'identity');
      await changeConnections((file) => {
        file.connections[name] = { url, ...(identity ? { identity: path.resolve(identity) } : {}) };
        // Never made the default unasked: commands without --host would leave this machine.
        if (bool(parsed.options, 'default')) file.default = name;
      });
      return 0;
    }
    case 'ls':
    case 'list': {
      arity('ls', args, 0);
      const file = readConnections();
      const rows = Object.entries(file.connections)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, entry]) => ({
          Name: name,
          URI: entry.url,
          Identity: entry.identity ?? '',
          Default: file.default === name,
        }));
      if (str(parsed.options, 'format') === 'json') {
        write(context.stdout, JSON.stringify(rows, null, 2));
        return 0;
      }
      context.stdout.write(
        table(
          ['NAME', 'URI', 'IDENTITY', 'DEFAULT'],
          rows.map((row) => [row.Name, row.URI, row.Identity, String(row.Default)]),
        ),
      );
      return 0;
    }
    case 'rm':
    case 'remove': {
      arity('rm', args, 1);
      const [name] = args as [string];
      await changeConnections((file) => {
        if (!file.connections[name]) throw new NotFoundError(`no such connection: ${name}`);
        delete file.connections[name];
        if (file.default === name) delete file.default;
      });
      return 0;
    }
    case 'default': {
      arity('default', args, 1);
      const [name] = args as [string];
      await changeConnections((file) => {
        // "local": commands without --host work on this machine again.
        if (name === 'local') {
          delete file.default;
          return;
        }
        if (!file.connections[name])
          throw new NotFoundError(`no such connection: ${name}`, { hint: 'see `gantry connection ls`' });
        file.default = name;
      });
      return 0;
    }
    default:
      throw new InvalidArgumentError(`unknown connection command ${JSON.stringify(verb)}`, {
        hint: 'accepted: add, ls, rm, default',
      });
  }
}
