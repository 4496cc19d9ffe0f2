/**
 * `gantry pod ls|inspect|start|stop|rm`: the pods `kube play` made, as podman's `pod` commands
 * show and manage them (an infra container and the containers that share its namespaces).
 */
import { bool, num, type CommandSpec, type ParsedArgs } from '../args.js';
import { pickSubcommand } from '../subcommands.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';
import { ago, table } from '../format.js';
import type { ContainerRecord } from '../../runtime/containers/record.js';
import type { PodMembers } from '../../runtime/kube/collect.js';
import { SHARE_PID_LABEL } from '../../runtime/kube/labels.js';

export const spec: CommandSpec = {
  name: 'pod',
  usage: 'pod COMMAND',
  description: 'Manage pods (ls, inspect, start, stop, rm)',
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [],
};

const SUBCOMMANDS: Record<string, CommandSpec> = {
  ls: {
    name: 'pod ls',
    usage: 'pod ls [OPTIONS]',
    description: 'List pods',
    maxArgs: 0,
    aliases: ['ps', 'list'],
    options: [
      { name: 'quiet', short: 'q', type: 'boolean', description: 'Only display pod IDs' },
      { name: 'no-trunc', type: 'boolean', description: "Don't truncate pod IDs" },
      { name: 'json', type: 'boolean', description: 'Print a JSON array (pod inspect objects)' },
    ],
  },
  inspect: {
    name: 'pod inspect',
    usage: 'pod inspect POD...',
    description: 'Display detailed information on one or more pods (JSON)',
    minArgs: 1,
    options: [],
  },
  start: {
    name: 'pod start',
    usage: 'pod start POD...',
    description: "Start pods: the infra container, then the pod's containers",
    minArgs: 1,
    options: [],
  },
  stop: {
    name: 'pod stop',
    usage: 'pod stop [OPTIONS] POD...',
    description: "Stop pods: the pod's containers, then the infra container",
    minArgs: 1,
    options: [
      {
        name: 'time',
        short: 't',
        type: 'number',
        placeholder: 'seconds',
        description: 'Seconds to wait before killing each container (default: its own, or 10)',
      },
    ],
  },
  rm: {
    name: 'pod rm',
    usage: 'pod rm [OPTIONS] POD...',
    description: 'Remove pods with their containers and anonymous volumes',
    minArgs: 1,
    aliases: ['remove'],
    options: [{ name: 'force', short: 'f', type: 'boolean', description: 'Remove running pods too' }],
  },
};

function isUp(record: ContainerRecord): boolean {
  return record.State.Status === 'running' || record.State.Status === 'paused';
}

/** podman's pod states: Running, Degraded (some running), Exited, Created. */
export function podStatus(pod: PodMembers): string {
  const all = [...(pod.infra ? [pod.infra] : []), ...pod.containers];
  const up = all.filter(isUp).length;
  if (up === all.length && up > 0) return 'Running';
  if (up > 0) return 'Degraded';
  return all.every((record) => record.State.Status === 'created') ? 'Created' : 'Exited';
}

/** podman's pod namespace modes: "host" when the infra container stays in the host's, else "private". */
function namespaceMode(mode: string | undefined): string {
  return mode === 'host' ? 'host' : 'private';
}

/**
 * Whether the members are in the infra container's uts namespace (the host's, with hostNetwork),
 * as kube play puts them now; a pod played by an older gantry has them in their own.
 */
function sharesUts(infra: ContainerRecord, members: readonly ContainerRecord[]): boolean {
  const pods = infra.HostConfig.UTSMode === 'host' ? 'host' : `container:${infra.Id}`;
  return members.every((record) => record.HostConfig.UTSMode === pods);
}

/**
 * podman's `pod inspect` fields. SharedNamespaces, as podman's (sorted), are the namespaces the
 * members take from the pod: ipc, net and uts always (with hostIPC or hostNetwork the pod's is the
 * host's, and podman lists them all the same), pid with shareProcessNamespace. Whether the pod's are the
 * host's is in InfraConfig, as in podman (HostNetwork, pid_ns, uts_ns; podman has no ipc field).
 */
export function podInspect(pod: PodMembers): Record<string, unknown> {
  const all = [...(pod.infra ? [pod.infra] : []), ...pod.containers];
  const infra = pod.infra?.HostConfig;
  return {
    Id: pod.id,
    Name: pod.name,
    Created: pod.infra?.Created ?? pod.containers[0]?.Created ?? '',
    State: podStatus(pod),
    Hostname: pod.infra?.Config.Hostname ?? '',
    InfraContainerID: pod.infra?.Id ?? '',
    ...(infra
      ? {
          InfraConfig: {
            HostNetwork: infra.NetworkMode === 'host',
            pid_ns: namespaceMode(infra.PidMode),
            uts_ns: namespaceMode(infra.UTSMode),
          },
        }
      : {}),
    SharedNamespaces: [
      'ipc',
      'net',
      ...(pod.infra?.Config.Labels[SHARE_PID_LABEL] === 'true' ? ['pid'] : []),
      ...(pod.infra && sharesUts(pod.infra, pod.containers) ? ['uts'] : []),
    ],
    NumContainers: all.length,
    Containers: all.map((record) => ({ Id: record.Id, Name: record.Name, State: record.State.Status })),
  };
}

async function eachPod(
  references: readonly string[],
  context: CommandContext,
  action: (pod: PodMembers) => Promise<void>,
): Promise<number> {
  const engine = await context.engine();
  const { getPod } = await import('../../runtime/kube/play.js');
  let failed = false;
  for (const reference of references) {
    try {
      const pod = await getPod(engine, reference);
      await action(pod);
      write(context.stdout, pod.id);
    } catch (error) {
      failed = true;
      reportError(error, context.stderr);
    }
  }
  return failed ? 1 : 0;
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const picked = pickSubcommand('pod', SUBCOMMANDS, parsed.args, context);
  if (!picked) return 0;
  const [verb, sub] = picked;
  const runtime = await import('../../runtime/kube/play.js');
  switch (verb) {
    case 'ls': {
      const engine = await context.engine();
      const pods = (await runtime.listPods(engine)).sort((a, b) =>
        String(podInspect(b).Created).localeCompare(String(podInspect(a).Created)),
      );
      const full = bool(sub.options, 'no-trunc');
      const id = (text: string) => (full ? text : text.slice(0, 12));
      if (bool(sub.options, 'quiet')) {
        for (const pod of pods) write(context.stdout, id(pod.id));
      } else if (bool(sub.options, 'json')) {
        write(context.stdout, JSON.stringify(pods.map(podInspect), null, 2));
      } else {
        context.stdout.write(
          table(
            ['POD ID', 'NAME', 'STATUS', 'CREATED', 'INFRA ID', '# OF CONTAINERS'],
            pods.map((pod) => {
              const info = podInspect(pod);
              return [
                id(pod.id),
                pod.name,
                podStatus(pod),
                ago(String(info.Created)),
                id(pod.infra?.Id ?? ''),
                String(info.NumContainers),
              ];
            }),
          ),
        );
      }
      return 0;
    }
    case 'inspect': {
      const engine = await context.engine();
      const found: Record<string, unknown>[] = [];
      let failed = false;
      for (const reference of sub.args) {
        try {
          found.push(podInspect(await runtime.getPod(engine, reference)));
        } catch (error) {
          failed = true;
          reportError(error, context.stderr);
        }
      }
      write(context.stdout, JSON.stringify(found, null, 2));
      return failed ? 1 : 0;
    }
    case 'start': {
      const engine = await context.engine();
      return eachPod(sub.args, context, (pod) => runtime.startExistingPod(engine, pod));
    }
    case 'stop': {
      const engine = await context.engine();
      const time = num(sub.options, 'time');
      return eachPod(sub.args, context, (pod) => runtime.stopPod(engine, pod, time));
    }
    default: {
      const engine = await context.engine();
      const force = bool(sub.options, 'force');
      return eachPod(sub.args, context, (pod) => runtime.removePod(engine, pod, { force }));
    }
  }
}
