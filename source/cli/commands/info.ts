/** `gantry info`: docker's system-wide information, as text, JSON (--json) or a template (--format). */
import { bool, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { binarySize } from '../format.js';
import { renderTemplate } from '../template.js';
import { VERSION } from '../version.js';
import { collectInfo, type SystemInfo } from '../../runtime/info.js';

export const spec: CommandSpec = {
  name: 'info',
  usage: 'info [OPTIONS]',
  description: 'Display system-wide information',
  maxArgs: 0,
  options: [
    { name: 'json', type: 'boolean', description: "Print docker's info fields as JSON" },
    {
      name: 'format',
      short: 'f',
      type: 'string',
      description: 'Format the output using a Go template, e.g. "{{.CgroupVersion}}", or "json"',
    },
  ],
};

function text(info: SystemInfo): string {
  const lines = [
    `Containers: ${info.Containers}`,
    ` Running: ${info.ContainersRunning}`,
    ` Paused: ${info.ContainersPaused}`,
    ` Stopped: ${info.ContainersStopped}`,
    `Images: ${info.Images}`,
    `Server Version: ${info.ServerVersion}`,
    `Storage Driver: ${info.Driver}`,
    ...info.DriverStatus.map(([key, value]) => ` ${key}: ${value}`),
    `Logging Driver: ${info.LoggingDriver}`,
    `Cgroup Driver: ${info.CgroupDriver}`,
    `Cgroup Version: ${info.CgroupVersion}`,
    ` Layout: ${info.CgroupLayout}`,
    ` Parent: ${info.CgroupParent}`,
    `Runtimes: ${Object.keys(info.Runtimes).join(' ')}`,
    `Default Runtime: ${info.DefaultRuntime}`,
    ` Helper: ${info.Runtimes[info.DefaultRuntime]?.path ?? ''}`,
    'Security Options:',
    ...info.SecurityOptions.flatMap((option) => {
      const [name, ...rest] = option.replace(/^name=/, '').split(',');
      return [
        ` ${name}`,
        ...rest.map((field) => {
          const [key = '', value = ''] = field.split('=');
          return `  ${key.charAt(0).toUpperCase()}${key.slice(1)}: ${value}`;
        }),
      ];
    }),
    `Kernel Version: ${info.KernelVersion}`,
    `Operating System: ${info.OperatingSystem}`,
    `OSType: ${info.OSType}`,
    `Architecture: ${info.Architecture}`,
    `CPUs: ${info.NCPU}`,
    `Total Memory: ${binarySize(info.MemTotal)}`,
    `Name: ${info.Name}`,
    `ID: ${info.ID}`,
    `Gantry Root Dir: ${info.DockerRootDir}`,
  ];
  return `${lines.join('\n')}\n${info.Warnings.map((warning) => `WARNING: ${warning}\n`).join('')}`;
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  const info = await collectInfo(engine, VERSION, context.engineOptions);
  const format = str(parsed.options, 'format');
  if (bool(parsed.options, 'json') || format?.trim() === 'json') write(context.stdout, JSON.stringify(info));
  else if (format !== undefined) write(context.stdout, renderTemplate(format, info));
  else context.stdout.write(text(info));
  return 0;
}
