/** `gantry network create|ls|inspect|rm|connect|disconnect|prune`, docker's flags and output. */
import { bool, keyValues, list, str, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { pickSubcommand } from '../subcommands.js';
import { NotFoundError } from '../../runtime/errors.js';
import { networkFilter } from '../../runtime/network/filters.js';
import type { NetworkConfig } from '../../runtime/network/types.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';
import { printInspected, printListing } from '../listing.js';

/** docker's column titles of `network ls --format 'table ...'`. */
const NETWORK_HEADERS: Record<string, string> = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
};

export const spec: CommandSpec = {
  name: 'network',
  usage: 'network COMMAND',
  description: 'Manage networks',
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [],
};

const SUBCOMMANDS: Record<string, CommandSpec> = {
  create: {
    name: 'network create',
    usage: 'network create [OPTIONS] NETWORK',
    description: 'Create a bridge network (its bridge and rules exist while containers are on it)',
    minArgs: 1,
    maxArgs: 1,
    options: [
      {
        name: 'subnet',
        type: 'string',
        description:
          'Subnet in CIDR format (default: the next free /16 from 10.88.0.0/16 and 172.17.0.0/16 up)',
      },
      {
        name: 'gateway',
        type: 'string',
        description: 'Gateway address of the subnet (default: its first address)',
      },
      { name: 'internal', type: 'boolean', description: 'Restrict external access to the network' },
      { name: 'driver', short: 'd', type: 'string', description: 'Driver (only "bridge")' },
      { name: 'label', type: 'list', description: 'Set metadata on a network (KEY=VALUE)' },
    ],
  },
  ls: {
    name: 'network ls',
    usage: 'network ls [OPTIONS]',
    description: 'List networks',
    maxArgs: 0,
    aliases: ['list'],
    options: [
      { name: 'quiet', short: 'q', type: 'boolean', description: 'Only display network IDs' },
      {
        name: 'filter',
        short: 'f',
        type: 'list',
        description: 'Filter output (driver, id, label, name, scope, type=custom|builtin, dangling=true)',
      },
      { name: 'no-trunc', type: 'boolean', description: "Don't truncate the output" },
      { name: 'json', type: 'boolean', description: 'Print a JSON array' },
      {
        name: 'format',
        type: 'string',
        description: 'Format each network with a template, e.g. "{{.Name}}"',
      },
    ],
  },
  inspect: {
    name: 'network inspect',
    usage: 'network inspect [OPTIONS] NETWORK [NETWORK...]',
    description: 'Display detailed information on one or more networks',
    minArgs: 1,
    options: [
      { name: 'format', short: 'f', type: 'string', description: 'Format the output using a template' },
    ],
  },
  rm: {
    name: 'network rm',
    usage: 'network rm NETWORK [NETWORK...]',
    description: 'Remove one or more networks (refused while containers use them)',
    minArgs: 1,
    aliases: ['remove'],
    options: [
      {
        name: 'force',
        short: 'f',
        type: 'boolean',
        description: 'Do not error if the network does not exist',
      },
    ],
  },
  connect: {
    name: 'network connect',
    usage: 'network connect [OPTIONS] NETWORK CONTAINER',
    description: 'Connect a container to a network (a running one at once)',
    minArgs: 2,
    maxArgs: 2,
    options: [
      { name: 'alias', type: 'list', description: 'Add a network-scoped alias for the container' },
      { name: 'ip', type: 'string', description: 'IPv4 address (e.g. 10.89.0.10), on user networks' },
    ],
  },
  disconnect: {
    name: 'network disconnect',
    usage: 'network disconnect [OPTIONS] NETWORK CONTAINER',
    description: 'Disconnect a container from a network',
    minArgs: 2,
    maxArgs: 2,
    options: [
      { name: 'force', short: 'f', type: 'boolean', description: 'Accepted for docker compatibility' },
    ],
  },
  prune: {
    name: 'network prune',
    usage: 'network prune [OPTIONS]',
    description: 'Remove all user networks no container uses',
    maxArgs: 0,
    options: [
      { name: 'force', short: 'f', type: 'boolean', description: 'Do not prompt (gantry never prompts)' },
      {
        name: 'filter',
        type: 'list',
        description: 'Provide filter values (until=24h, label=KEY[=VALUE], label!=KEY[=VALUE])',
      },
    ],
  },
};

/** `network ls`'s output for the networks that passed the filters. */
function printNetworks(configs: readonly NetworkConfig[], sub: ParsedArgs, context: CommandContext): void {
  const full = bool(sub.options, 'no-trunc');
  const rows = configs.map((config) => ({
    ID: full ? config.Id : config.Id.slice(0, 12),
    Name: config.Name,
    Driver: config.Driver,
    Scope: 'local',
    Subnet: config.Subnet,
    Gateway: config.Gateway,
    IPv6: false,
    Internal: config.Internal,
    Labels: config.Labels,
    CreatedAt: config.Created,
  }));
  printListing(sub, context, {
    rows,
    quiet: (row) => row.ID,
    columns: ['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'],
    cells: (row) => [row.ID, row.Name, row.Driver, row.Scope],
    headers: NETWORK_HEADERS,
  });
}

/** `network ls` on a remote host (--host): its networks, filtered here as they are locally. */
async function remoteNetworkLs(sub: ParsedArgs, context: CommandContext): Promise<number> {
  const matches = networkFilter(list(sub.options, 'filter'), 'ls');
  const networks = await (await context.hostEngine()).networks.list();
  printNetworks(
    networks.filter((network) => matches(network)).map((network) => network.config),
    sub,
    context,
  );
  return 0;
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const picked = pickSubcommand('network', SUBCOMMANDS, parsed.args, context);
  if (!picked) return 0;
  const [subcommand, sub] = picked;
  // The only verb served on a remote host (the CLI's dispatcher refuses the others there).
  if (context.host !== undefined && subcommand === 'ls') return remoteNetworkLs(sub, context);
  const engine = await context.engine();
  const manager = await engine.network();
  const users = (network: string) => engine.networkUsers(network);
  switch (subcommand) {
    case 'create': {
      const driver = str(sub.options, 'driver');
      if (driver !== undefined && driver !== 'bridge') {
        throw new UsageError(`network driver ${JSON.stringify(driver)} is not supported; accepted is bridge`);
      }
      const subnet = str(sub.options, 'subnet');
      const gateway = str(sub.options, 'gateway');
      const config = await manager.create({
        name: sub.args[0]!,
        ...(subnet !== undefined ? { subnet } : {}),
        ...(gateway !== undefined ? { gateway } : {}),
        internal: bool(sub.options, 'internal'),
        labels: keyValues(sub.options, 'label'),
      });
      write(context.stdout, config.Id);
      return 0;
    }
    case 'ls': {
      const filters = list(sub.options, 'filter');
      const matches = networkFilter(filters, 'ls');
      const configs: NetworkConfig[] = [];
      for (const config of await manager.list()) {
        const inUse = filters.some((text) => text.startsWith('dangling='))
          ? (await users(config.Name)).length > 0
          : false;
        if (matches({ config, inUse })) configs.push(config);
      }
      printNetworks(configs, sub, context);
      return 0;
    }
    case 'inspect': {
      const { inspectNetwork } = await import('../../runtime/network/inspect.js');
      const state = await manager.store.readState();
      const firewall = state.firewall ?? manager.firewall();
      return printInspected(sub, context, async (reference) =>
        inspectNetwork(await manager.get(reference), state, firewall),
      );
    }
    case 'rm': {
      let failed = 0;
      for (const reference of sub.args) {
        try {
          await manager.sweep();
          await manager.remove(reference, users);
          write(context.stdout, reference);
        } catch (error) {
          if (bool(sub.options, 'force') && error instanceof NotFoundError) continue;
          reportError(error, context.stderr);
          failed = 1;
        }
      }
      return failed;
    }
    case 'connect':
      await engine.connectNetwork(
        sub.args[1]!,
        sub.args[0]!,
        list(sub.options, 'alias'),
        str(sub.options, 'ip'),
      );
      return 0;
    case 'disconnect':
      await engine.disconnectNetwork(sub.args[1]!, sub.args[0]!);
      return 0;
    case 'prune': {
      const matches = networkFilter(list(sub.options, 'filter'), 'prune');
      await manager.sweep();
      const removed: string[] = [];
      for (const config of await manager.list()) {
        if (config.Name === 'bridge' || !matches({ config, inUse: false })) continue;
        if ((await users(config.Name)).length > 0) continue;
        try {
          await manager.remove(config.Name, users);
          removed.push(config.Name);
        } catch (error) {
          reportError(error, context.stderr);
        }
      }
      if (removed.length > 0) write(context.stdout, `Deleted Networks:\n${removed.join('\n')}`);
      return 0;
    }
  }
  return 0;
}
