/**
 * `gantry kube generate|play|down`: containers and pods as Kubernetes manifests, and manifests run
 * as pods on this machine, as podman's `kube` commands. The YAML parser is loaded only here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { str, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { pickSubcommand } from '../subcommands.js';
import { warn, write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';
import { readStdinText } from '../stdin.js';

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
  play: {
    name: 'kube play',
    usage: 'kube play [OPTIONS] FILE',
    description:
      'Run the pods of a Kubernetes manifest (Pod or Deployment; - reads the standard input): an infra container holds the network and ipc namespaces its containers share',
    minArgs: 1,
    maxArgs: 1,
    options: [
      {
        name: 'network',
        type: 'string',
        description: "The pod's network: bridge (the default), none, or a network's name",
      },
      {
        name: 'start',
        type: 'string',
        placeholder: 'bool',
        description: 'Start the pods (default true; false only creates them)',
      },
    ],
  },
  down: {
    name: 'kube down',
    usage: 'kube down FILE',
    description: 'Remove the pods a manifest describes, with their containers and anonymous volumes',
    minArgs: 1,
    maxArgs: 1,
    options: [],
  },
};

async function readManifest(file: string): Promise<string> {
  if (file === '-') return readStdinText();
  return fs.readFileSync(file, 'utf8');
}

async function plansOf(file: string, context: CommandContext) {
  const [{ parseDocuments }, { podPlans }] = await Promise.all([
    import('../../runtime/kube/yaml.js'),
    import('../../runtime/kube/manifest.js'),
  ]);
  const result = podPlans(await parseDocuments(await readManifest(file), file), file);
  for (const message of result.warnings) warn(context.stderr, message);
  return result.plans;
}

async function play(sub: ParsedArgs, context: CommandContext): Promise<number> {
  const start = str(sub.options, 'start') ?? 'true';
  if (start !== 'true' && start !== 'false')
    throw new UsageError(`invalid --start ${JSON.stringify(start)}; accepted: true, false`);
  const plans = await plansOf(sub.args[0]!, context);
  const engine = await context.engine();
  const { playPods } = await import('../../runtime/kube/play.js');
  const network = str(sub.options, 'network');
  const played = await playPods(engine, plans, {
    start: start === 'true',
    ...(network !== undefined ? { network } : {}),
  });
  for (const pod of played) {
    write(context.stdout, 'Pod:');
    write(context.stdout, pod.id);
    write(context.stdout, 'Containers:');
    for (const id of pod.containers) write(context.stdout, id);
    write(context.stdout, '');
  }
  return 0;
}

async function down(sub: ParsedArgs, context: CommandContext): Promise<number> {
  const plans = await plansOf(sub.args[0]!, context);
  const engine = await context.engine();
  const { listPods, removePod } = await import('../../runtime/kube/play.js');
  const pods = await listPods(engine);
  let failed = false;
  write(context.stdout, 'Pods stopped:');
  const removed: string[] = [];
  for (const plan of plans) {
    const pod = pods.find((candidate) => candidate.name === plan.name);
    if (!pod) {
      warn(context.stderr, `no pod ${plan.name}: nothing to remove`);
      continue;
    }
    try {
      await removePod(engine, pod, { force: true });
      write(context.stdout, pod.id);
      removed.push(pod.id);
    } catch (error) {
      failed = true;
      reportError(error, context.stderr);
    }
  }
  write(context.stdout, 'Pods removed:');
  for (const id of removed) write(context.stdout, id);
  return failed ? 1 : 0;
}

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
  const picked = pickSubcommand('kube', SUBCOMMANDS, parsed.args, context);
  if (!picked) return 0;
  const [name, sub] = picked;
  switch (name) {
    case 'generate':
      return generate(sub, context);
    case 'play':
      return play(sub, context);
    case 'down':
      return down(sub, context);
    default:
      return 125;
  }
}
