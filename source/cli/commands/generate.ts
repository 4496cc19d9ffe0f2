/**
 * `gantry generate systemd [--files] [--name] [--time N] [--restart-policy P] CONTAINER`: a systemd
 * unit that brings the container back after a reboot, as podman's `generate systemd` writes it.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  bool,
  formatHelp,
  num,
  parseArgs,
  str,
  UsageError,
  type CommandSpec,
  type ParsedArgs,
} from '../args.js';
import { write, type CommandContext } from '../context.js';
import { packageRoot } from '../../runtime/containers/core.js';
import { systemdUnit, unitName } from '../../runtime/containers/systemd-unit.js';

export const spec: CommandSpec = {
  name: 'generate',
  usage: 'generate systemd [OPTIONS] CONTAINER',
  description: 'Generate a systemd unit that starts a container at boot',
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [],
};

const SYSTEMD: CommandSpec = {
  name: 'generate systemd',
  usage: 'generate systemd [OPTIONS] CONTAINER',
  description:
    'Print a systemd unit for the container (Type=forking: systemd tracks its monitor, which applies the restart policy itself)',
  minArgs: 1,
  maxArgs: 1,
  options: [
    {
      name: 'files',
      short: 'f',
      type: 'boolean',
      description: 'Write container-NAME.service in the current directory',
    },
    { name: 'name', short: 'n', type: 'boolean', description: "Use the container's name instead of its id" },
    {
      name: 'time',
      short: 't',
      type: 'number',
      placeholder: 'seconds',
      description: "Stop timeout in the unit (default: the container's, or 10)",
    },
    {
      name: 'restart-policy',
      type: 'string',
      placeholder: 'policy',
      description:
        "systemd's Restart= (default on-abnormal: only a killed monitor is restarted; the monitor restarts the container itself)",
    },
  ],
};

/** The absolute command that runs this gantry on this engine's root and cgroup parent. */
function gantryCommand(context: CommandContext): string[] {
  return [
    process.execPath,
    path.join(packageRoot(), 'bin', 'gantry.js'),
    '--root',
    context.engineOptions.root,
    '--cgroup-parent',
    context.engineOptions.cgroupParent,
  ];
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [what, ...rest] = parsed.args;
  if (what !== 'systemd')
    throw new UsageError(`unknown generate command ${JSON.stringify(what)}; accepted: systemd`);
  const sub = parseArgs(SYSTEMD, rest);
  if (sub.help) {
    context.stdout.write(formatHelp(SYSTEMD));
    return 0;
  }
  const engine = await context.engine();
  const record = await engine.get(sub.args[0]!);
  const useName = bool(sub.options, 'name');
  const stopTimeout = num(sub.options, 'time');
  const restartPolicy = str(sub.options, 'restart-policy');
  const unit = systemdUnit(record, {
    gantry: gantryCommand(context),
    containerDir: engine.containers.dir(record.Id),
    root: context.engineOptions.root,
    useName,
    ...(stopTimeout !== undefined ? { stopTimeout } : {}),
    ...(restartPolicy !== undefined ? { restartPolicy } : {}),
    version: '0.1.0',
  });
  if (bool(sub.options, 'files')) {
    const file = path.resolve(unitName(record, useName));
    fs.writeFileSync(file, unit);
    write(context.stdout, file);
  } else {
    context.stdout.write(unit);
  }
  return 0;
}
