/** `gantry port CONTAINER [PRIVATE_PORT[/PROTO]]`: the published ports of a container, as docker prints them. */
import { type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { publishedPorts } from '../../runtime/containers/ports-text.js';
import { InvalidArgumentError, NotFoundError } from '../../runtime/errors.js';

export const spec: CommandSpec = {
  name: 'port',
  usage: 'port CONTAINER [PRIVATE_PORT[/PROTO]]',
  description: 'List port mappings or a specific mapping for the container',
  minArgs: 1,
  maxArgs: 2,
  options: [],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [reference, filter] = parsed.args as [string, string | undefined];
  let wanted: { port: number; protocol: string } | undefined;
  if (filter !== undefined) {
    const match = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(filter);
    if (!match) {
      throw new InvalidArgumentError(`invalid port ${JSON.stringify(filter)}`, {
        hint: 'write PORT or PORT/tcp or PORT/udp',
      });
    }
    wanted = { port: Number(match[1]), protocol: match[2] ?? 'tcp' };
  }
  const engine = await context.engine();
  const record = await engine.get(reference);
  const ports = publishedPorts(record)
    .filter((port) => !wanted || (port.containerPort === wanted.port && port.protocol === wanted.protocol))
    .sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol));
  if (wanted && ports.length === 0) {
    throw new NotFoundError(
      `no public port '${wanted.port}/${wanted.protocol}' published for ${record.Name}`,
    );
  }
  for (const port of ports) {
    const host = `${port.hostIp || '0.0.0.0'}:${port.hostPort}`;
    write(context.stdout, wanted ? host : `${port.containerPort}/${port.protocol} -> ${host}`);
  }
  return 0;
}
