/**
 * `gantry kube generate|play|down`: containers and pods as Kubernetes manifests, and manifests run
 * as pods on this machine, as podman's `kube` commands. The YAML parser is loaded only here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { formatHelp, parseArgs, str, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';

const VERSION = '0.1.0';

export const spec: CommandSpec = {
  name: 'kube',
  usage: 'kube COMMAND',
  description: 'Generate Kubernetes manifests from containers and pods, and play them here',
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [],
};

const SUBCOMMANDS: Record<string, CommandSpec> = {
  generate: {
    name: 'kube generate',
    usage: 'kube generate [OPTIONS] CONTAINER...|POD',
    description:
      'Write a Kubernetes Pod (or Deployment) for containers or a pod, with the limits they have now',
    minArgs: 1,
    options: [
      {
        name: 'type',
        short: 't',
        type: 'string',
        description: 'The kind of manifest: pod (the default) or deployment',
      },
      {
        name: 'filename',
        short: 'f',
        type: 'string',
        placeholder: 'file',
        description: 'Write the manifest to this file instead of the standard output',
      },
    ],
  },
};

async function generate(sub: ParsedArgs, context: CommandContext): Promise<number> {
  const type = (str(sub.options, 'type') ?? 'pod').toLowerCase();
  if (type !== 'pod' && type !== 'deployment')
    throw new UsageError(`invalid --type ${JSON.stringify(type)}; accepted: pod, deployment`);
  const engine = await context.engine();
  const [{ generateFor }, { manifestText }] = await Promise.all([
    import('../../runtime/kube/collect.js'),
    import('../../runtime/kube/yaml.js'),
  ]);
  const text = await manifestText(await generateFor(engine, sub.args, type), VERSION);
  const file = str(sub.options, 'filename');
  if (file === undefined) {
    context.stdout.write(text);
    return 0;
  }
  // Written beside the target and renamed, so a failure leaves no half manifest.
  const target = path.resolve(file);
  const temporary = `${target}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(temporary, text, { flag: 'wx' });
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  write(context.stdout, target);
  return 0;
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [name, ...rest] = parsed.args;
  const subSpec = SUBCOMMANDS[name ?? ''];
  if (!subSpec) {
    throw new UsageError(
      `unknown kube command ${JSON.stringify(name)}; accepted: ${Object.keys(SUBCOMMANDS).join(', ')}\nSee 'gantry kube --help'.`,
    );
  }
  const sub = parseArgs(subSpec, rest);
  if (sub.help) {
    context.stdout.write(formatHelp(subSpec));
    return 0;
  }
  switch (name) {
    case 'generate':
      return generate(sub, context);
    default:
      return 125;
  }
}
