/** `gantry volume create|ls|inspect|rm|prune`: docker's flags, columns and JSON fields. */
import { type CommandSpec, type ParsedArgs } from '../args.js';
import { pickSubcommand } from '../subcommands.js';
import type { CommandContext } from '../context.js';
import {
  runVolumeCreate,
  runVolumeInspect,
  runVolumeLs,
  runVolumePrune,
  runVolumeRm,
} from './volume-commands.js';

export const spec: CommandSpec = {
  name: 'volume',
  usage: 'volume COMMAND',
  description: 'Manage volumes (create, ls, inspect, rm, prune)',
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [],
};

const FORMAT = { name: 'format', type: 'string', description: 'Format the output using a template' } as const;

const SUBCOMMANDS: Record<string, CommandSpec> = {
  create: {
    name: 'volume create',
    usage: 'volume create [OPTIONS] [VOLUME]',
    description: 'Create a volume (a random name when none is given)',
    maxArgs: 1,
    options: [
      {
        name: 'driver',
        short: 'd',
        type: 'string',
        description: 'Specify volume driver name (only "local")',
      },
      { name: 'label', type: 'list', description: 'Set metadata for a volume (KEY=VALUE)' },
      {
        name: 'opt',
        short: 'o',
        type: 'list',
        description: 'Set driver specific options (none are supported)',
      },
      { name: 'name', type: 'string', description: 'Specify volume name', hidden: true },
    ],
  },
  ls: {
    name: 'volume ls',
    usage: 'volume ls [OPTIONS]',
    description: 'List volumes',
    maxArgs: 0,
    aliases: ['list'],
    options: [
      { name: 'quiet', short: 'q', type: 'boolean', description: 'Only display volume names' },
      {
        name: 'filter',
        short: 'f',
        type: 'list',
        description: 'Provide filter values: dangling=true|false, driver=local, label=KEY[=VALUE], name=TEXT',
      },
      {
        ...FORMAT,
        description:
          'Format output using a template: {{.Name}} {{.Driver}} {{.Scope}} {{.Mountpoint}} {{.Labels}} {{.Links}} {{.Size}}, or json',
      },
    ],
  },
  inspect: {
    name: 'volume inspect',
    usage: 'volume inspect [OPTIONS] VOLUME [VOLUME...]',
    description: 'Display detailed information on one or more volumes',
    minArgs: 1,
    options: [{ ...FORMAT, short: 'f' }],
  },
  rm: {
    name: 'volume rm',
    usage: 'volume rm [OPTIONS] VOLUME [VOLUME...]',
    description: 'Remove one or more volumes (refused while a container uses them)',
    minArgs: 1,
    aliases: ['remove'],
    options: [
      {
        name: 'force',
        short: 'f',
        type: 'boolean',
        description: 'Do not fail for a volume that does not exist (one in use is still refused)',
      },
    ],
  },
  prune: {
    name: 'volume prune',
    usage: 'volume prune [OPTIONS]',
    description: 'Remove unused anonymous volumes (with --all, unused named ones too)',
    maxArgs: 0,
    options: [
      {
        name: 'all',
        short: 'a',
        type: 'boolean',
        description: 'Remove all unused volumes, not just anonymous ones',
      },
      {
        name: 'filter',
        type: 'list',
        description: 'Provide filter values: label=KEY[=VALUE], label!=KEY[=VALUE]',
      },
      {
        name: 'force',
        short: 'f',
        type: 'boolean',
        description: 'Do not prompt for confirmation (gantry never prompts)',
      },
    ],
  },
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const picked = pickSubcommand('volume', SUBCOMMANDS, parsed.args, context);
  if (!picked) return 0;
  const [subcommand, sub] = picked;
  switch (subcommand) {
    case 'create':
      return runVolumeCreate(sub, context);
    case 'ls':
      return runVolumeLs(sub, context);
    case 'inspect':
      return runVolumeInspect(sub, context);
    case 'rm':
      return runVolumeRm(sub, context);
    default:
      return runVolumePrune(sub, context);
  }
}
