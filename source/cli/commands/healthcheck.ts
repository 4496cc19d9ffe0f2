/**
 * `gantry healthcheck run CONTAINER`, as podman's: the container's monitor runs one check now.
 * Exit 0 when healthy; "unhealthy" (or "starting", a failure inside the start period) is printed
 * and the exit status is 1.
 */
import { formatHelp, parseArgs, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'healthcheck',
  usage: 'healthcheck run CONTAINER',
  description: "Run a container's health check now",
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [],
};

const RUN: CommandSpec = {
  name: 'healthcheck run',
  usage: 'healthcheck run CONTAINER',
  description:
    "Run the container's health check now (by its monitor, which records the result as a scheduled check); exit 1 unless healthy",
  minArgs: 1,
  maxArgs: 1,
  options: [],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [what, ...rest] = parsed.args;
  if (what !== 'run')
    throw new UsageError(`unknown healthcheck command ${JSON.stringify(what)}; accepted: run`);
  const sub = parseArgs(RUN, rest);
  if (sub.help) {
    context.stdout.write(formatHelp(RUN));
    return 0;
  }
  const engine = await context.engine();
  const status = await engine.healthcheckRun(sub.args[0]!);
  if (status === 'healthy') return 0;
  write(context.stdout, status);
  return 1;
}
