/** `gantry logout [OPTIONS] [SERVER]`: removes stored credentials from the auth file. */
import { bool, str, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'logout',
  usage: 'logout [OPTIONS] SERVER | logout --all',
  description: 'Log out of a registry (remove its credentials from the auth file)',
  maxArgs: 1,
  options: [
    { name: 'all', short: 'a', type: 'boolean', description: 'Remove the credentials of every registry' },
    {
      name: 'authfile',
      type: 'string',
      placeholder: 'path',
      description: 'Credentials file (default $REGISTRY_AUTH_FILE, else <root>/auth.json)',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const { authFileLocation, lookupCredentials, normalizeServer, removeCredentials } =
    await import('../../runtime/images/registry/auth-file.js');
  const all = bool(parsed.options, 'all');
  if (all === (parsed.args.length === 1)) {
    throw new UsageError("give either a SERVER or --all\nSee 'gantry logout --help'.");
  }
  const location = authFileLocation(context.engineOptions.root, str(parsed.options, 'authfile'));
  if (all) {
    const removed = await removeCredentials(location, undefined);
    write(
      context.stdout,
      `Removed login credentials for ${removed.length} registr${removed.length === 1 ? 'y' : 'ies'}`,
    );
    return 0;
  }
  const server = normalizeServer(parsed.args[0]!);
  const removed = await removeCredentials(location, server);
  if (removed.length > 0) {
    write(context.stdout, `Removed login credentials for ${server}`);
    return 0;
  }
  const elsewhere = await lookupCredentials(location, server);
  context.stderr.write(
    elsewhere
      ? `gantry: not logged in to ${server} in ${location.writable}; its credentials come from ${location.readable.slice(1).join(', ')}, which gantry only reads\n`
      : `gantry: not logged in to ${server}\n`,
  );
  return 1;
}
