/**
 * What `kube play` makes of a manifest's fields, before anything runs: unknown fields refused
 * with their paths as kubectl's strict validation prints them, fields gantry cannot honour refused
 * or named in a warning (every field of a Pod's spec and a container's, from the Kubernetes
 * schema, is tried), and the fields it honours turned into the engine's create options.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../source/runtime/errors.js';
import { handlingOf } from '../../../source/runtime/kube/fields.js';
import { podPlans } from '../../../source/runtime/kube/manifest.js';
import { KUBE_FIELDS } from '../../../source/runtime/kube/schema-fields.js';

type Json = Record<string, unknown>;

function pod(spec: Json = {}, container: Json = {}, top: Json = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: { containers: [{ name: 'app', image: 'demo', ...container }], ...spec },
    ...top,
  };
}

/** The error podPlans throws for `documents`, with its hint. */
function refusal(...documents: Json[]): { message: string; hint: string } {
  try {
    podPlans(documents, 'pod.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return { message: (error as Error).message, hint: String((error as { hint?: unknown }).hint) };
  }
  throw new Error('the manifest was accepted');
}

describe('unknown fields', () => {
  it('are refused with their path from the document root, as kubectl prints them', () => {
    expect(refusal(pod({}, { imagee: 'demo' })).message).toBe(
      'pod.yaml: unknown field "spec.containers[0].imagee"',
    );
    expect(refusal(pod({}, {}, { sepc: {} })).message).toBe('pod.yaml: unknown field "sepc"');
    expect(refusal(pod({ volumes: [{ name: 'v', hostPath: { pth: '/x' } }] })).message).toBe(
      'pod.yaml: unknown field "spec.volumes[0].hostPath.pth"',
    );
    expect(refusal(pod({}, { securityContext: { capabilities: { ad: ['NET_ADMIN'] } } })).message).toBe(
      'pod.yaml: unknown field "spec.containers[0].securityContext.capabilities.ad"',
    );
    expect(refusal(pod({}, {}, { metadata: { name: 'web', lables: { a: 'b' } } })).message).toBe(
      'pod.yaml: unknown field "metadata.lables"',
    );
  });

  it('are all listed, with the known name each most likely meant', () => {
    const { message, hint } = refusal(pod({ restartPolicyy: 'Never' }, { imagee: 'demo', argz: [] }));
    expect(message).toBe(
      'pod.yaml: unknown field "spec.containers[0].imagee", unknown field "spec.containers[0].argz", unknown field "spec.restartPolicyy"',
    );
    expect(hint).toContain('"imagee": did you mean "image"?');
    expect(hint).toContain('"argz": did you mean "args"?');
    expect(hint).toContain('"restartPolicyy": did you mean "restartPolicy"?');
    expect(hint).toContain('kubectl explain pod.spec');
  });

  it('are found in a Deployment pod template, in each document of a file', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'api' } },
        template: {
          metadata: { labels: { app: 'api' } },
          spec: { containers: [{ name: 'app', image: 'demo', env: [{ name: 'A', valu: '1' }] }] },
        },
      },
    };
    expect(refusal(pod(), deployment).message).toBe(
      'pod.yaml[1]: unknown field "spec.template.spec.containers[0].env[0].valu"',
    );
  });

  it('of a value that is a map (labels, resource limits) are not fields: any key passes', () => {
    const { plans } = podPlans(
      [
        pod(
          {},
          { resources: { limits: { memory: '64Mi' } } },
          {
            metadata: { name: 'web', labels: { 'any.key/x': 'y' }, annotations: { k: 'v' } },
          },
        ),
      ],
      'pod.yaml',
    );
    expect(plans[0]!.labels).toEqual({ 'any.key/x': 'y' });
  });
});

/** A value of a field's schema type that asks for something (not a default or an empty value). */
function sample(type: string): unknown {
  if (type === '') return 'sample';
  return type.endsWith('[]') ? [{ sample: 1 }] : { sample: 1 };
}

describe('fields gantry does not play', () => {
  const cases: { type: string; field: string; document: Json; path: string }[] = [];
  for (const [field, type] of Object.entries(KUBE_FIELDS.PodSpec!))
    cases.push({ type: 'PodSpec', field, document: pod({ [field]: sample(type) }), path: `spec.${field}` });
  for (const [field, type] of Object.entries(KUBE_FIELDS.Container!))
    cases.push({
      type: 'Container',
      field,
      document: pod({}, { [field]: sample(type) }),
      path: `spec.containers[0].${field}`,
    });

  it('every field of a pod spec and of a container is played, or refused or warned about by path', () => {
    let refused = 0;
    let warned = 0;
    for (const { type, field, document, path } of cases) {
      const handling = handlingOf(type, field);
      if (handling === 'play' || handling === 'inert') continue;
      let warnings: string[] = [];
      try {
        warnings = podPlans([document], 'pod.yaml').warnings;
      } catch (error) {
        expect((error as Error).message, path).toContain(`pod.yaml: ${path}: `);
        refused += 1;
        continue;
      }
      expect(warnings, path).toEqual([expect.stringContaining(`pod.yaml: ${path} is ignored: `)]);
      warned += 1;
    }
    // Both kinds are there: scheduling is warned about, init containers are refused.
    expect(refused).toBeGreaterThan(5);
    expect(warned).toBeGreaterThan(5);
  });

  it('refuses what would change what runs, with why and what to do', () => {
    expect(refusal(pod({ initContainers: [{ name: 'i', image: 'demo' }] })).message).toBe(
      'pod.yaml: spec.initContainers: is not supported: gantry runs no init containers',
    );
    expect(refusal(pod({ hostPID: true, shareProcessNamespace: true })).message).toBe(
      "pod.yaml.spec.shareProcessNamespace: cannot be combined with hostPID: the pod's containers are in the host's pid namespace already",
    );
    expect(refusal(pod({ hostIPC: 'yes' })).hint).toBe('true or false');
    expect(refusal(pod({ hostUsers: false })).message).toContain('spec.hostUsers: is not supported');
    expect(refusal(pod({}, { envFrom: [{ configMapRef: { name: 'c' } }] })).hint).toContain(
      'give each variable in env',
    );
    expect(
      refusal(
        pod(
          { volumes: [{ name: 'v', emptyDir: {} }] },
          { volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 'x' }] },
        ),
      ).message,
    ).toContain('spec.containers[0].volumeMounts[0].subPath: is not supported');
    const secret = refusal(pod({ volumes: [{ name: 's', secret: { secretName: 'x' } }] }));
    expect(secret.message).toBe('pod.yaml: spec.volumes[0].secret: volume type secret is not supported');
    expect(secret.hint).toContain('supported volumes: hostPath');
    expect(refusal(pod({}, { livenessProbe: { httpGet: { port: 80 } } })).message).toContain(
      'spec.containers[0].livenessProbe.httpGet: is not supported: gantry runs exec probes',
    );
    expect(refusal(pod({}, { livenessProbe: { grpc: { port: 80 } } })).message).toContain(
      'livenessProbe.grpc: is not supported',
    );
    expect(
      refusal(pod({}, { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'p' } } }))
        .message,
    ).toContain('seccompProfile.type: "Localhost" is not supported');
    expect(refusal(pod({ securityContext: { runAsNonRoot: true } })).message).toContain(
      'securityContext.runAsNonRoot: needs a non-root runAsUser',
    );
    expect(refusal(pod({ os: { name: 'windows' } })).message).toContain('spec.os.name: "windows"');
    expect(
      refusal(
        pod(
          { volumes: [{ name: 'v', hostPath: { path: '/x', type: 'FileOrCreate' } }] },
          {
            volumeMounts: [{ name: 'v', mountPath: '/x' }],
          },
        ),
      ).message,
    ).toContain('hostPath.type: "FileOrCreate" is not supported');
  });

  it('passes a field set to what gantry does anyway, without a word', () => {
    const { warnings } = podPlans(
      [
        pod(
          { hostPID: false, hostIPC: false, hostUsers: true, initContainers: [], setHostnameAsFQDN: false },
          {
            securityContext: { allowPrivilegeEscalation: false, procMount: 'Default' },
            stdinOnce: false,
            envFrom: [],
          },
        ),
      ],
      'pod.yaml',
    );
    expect(warnings).toEqual([]);
  });

  it('warns about what has no meaning on one machine, naming the field', () => {
    const { warnings } = podPlans(
      [
        pod(
          { nodeSelector: { disk: 'ssd' }, volumes: [{ name: 'v', emptyDir: { sizeLimit: '1Gi' } }] },
          {
            readinessProbe: { exec: { command: ['true'] } },
            imagePullPolicy: 'Always',
            volumeMounts: [{ name: 'v', mountPath: '/v' }],
          },
        ),
      ],
      'pod.yaml',
    );
    expect(warnings).toEqual([
      'pod.yaml: spec.containers[0].readinessProbe is ignored: the readiness probe (no Service sends traffic here) is not run here',
      'pod.yaml: spec.containers[0].imagePullPolicy is ignored: images are taken from the local store (`gantry pull` first)',
      'pod.yaml: spec.nodeSelector is ignored: scheduling has no meaning on one machine',
      'pod.yaml.spec.volumes[0].emptyDir.sizeLimit is ignored: only a medium Memory emptyDir (a tmpfs) has a size here',
    ]);
  });
});

describe('fields gantry plays', () => {
  it('hostNetwork puts the pod in the host network namespace, publishing nothing', () => {
    const { plans } = podPlans(
      [pod({ hostNetwork: true }, { ports: [{ containerPort: 80, hostPort: 8080 }] })],
      'pod.yaml',
    );
    expect(plans[0]!.hostNetwork).toBe(true);
    expect(plans[0]!.publish).toEqual([]);
    expect(
      podPlans([pod({}, { ports: [{ containerPort: 80, hostPort: 8080 }] })], 'pod.yaml').plans[0]!.publish,
    ).toEqual(['8080:80/tcp']);
  });

  it("hostPID and hostIPC put the pod in the host's pid and ipc namespaces, each on its own", () => {
    const plan = (spec: Json) => podPlans([pod(spec)], 'pod.yaml').plans[0]!;
    expect(handlingOf('PodSpec', 'hostPID')).toBe('play');
    expect(handlingOf('PodSpec', 'hostIPC')).toBe('play');
    expect(plan({ hostPID: true, hostIPC: true })).toMatchObject({ hostPID: true, hostIPC: true });
    expect(plan({ hostPID: true })).toMatchObject({ hostPID: true, hostIPC: false });
    expect(plan({ hostIPC: true, shareProcessNamespace: true })).toMatchObject({
      hostPID: false,
      hostIPC: true,
      shareProcessNamespace: true,
    });
    expect(plan({})).toMatchObject({ hostPID: false, hostIPC: false, shareProcessNamespace: false });
    expect(podPlans([pod({ hostPID: true, hostIPC: true })], 'pod.yaml').warnings).toEqual([]);
  });

  it('an exec liveness probe is the health check, with Kubernetes defaults, and says it restarts nothing', () => {
    const { plans, warnings } = podPlans(
      [pod({}, { livenessProbe: { exec: { command: ['cat', "/tmp/it's here"] }, periodSeconds: 5 } })],
      'pod.yaml',
    );
    expect(plans[0]!.members[0]!.options).toMatchObject({
      healthCmd: "cat '/tmp/it'\\''s here'",
      healthInterval: '5s',
      healthTimeout: '1s',
      healthStartPeriod: '0s',
      healthRetries: 3,
    });
    expect(warnings).toEqual([expect.stringContaining('not restarted')]);
  });

  it('the pod security context is the default of each container; terminationGracePeriodSeconds the stop timeout', () => {
    const { plans } = podPlans(
      [
        {
          ...pod({
            terminationGracePeriodSeconds: 7,
            securityContext: { runAsUser: 1000, runAsGroup: 100, runAsNonRoot: true },
          }),
          spec: {
            terminationGracePeriodSeconds: 7,
            securityContext: { runAsUser: 1000, runAsGroup: 100, runAsNonRoot: true },
            containers: [
              { name: 'a', image: 'demo' },
              {
                name: 'b',
                image: 'demo',
                securityContext: { runAsUser: 2000, seccompProfile: { type: 'Unconfined' } },
              },
            ],
          },
        },
      ],
      'pod.yaml',
    );
    const [a, b] = plans[0]!.members;
    expect(a!.options).toMatchObject({ user: '1000:100', stopTimeout: 7 });
    expect(a!.options.securityOpt).toBeUndefined();
    expect(b!.options).toMatchObject({
      user: '2000:100',
      stopTimeout: 7,
      securityOpt: ['seccomp=unconfined'],
    });
  });

  it('a hostPath bind is a -v; one whose type asks for an existing path is also checked on the host', () => {
    const { plans } = podPlans(
      [
        pod(
          {
            volumes: [
              { name: 'f', hostPath: { path: '/etc/hostname', type: 'File' } },
              { name: 'd', hostPath: { path: '/srv/data', type: 'DirectoryOrCreate' } },
            ],
          },
          {
            volumeMounts: [
              { name: 'f', mountPath: '/hostname', readOnly: true },
              { name: 'd', mountPath: '/data' },
            ],
          },
        ),
      ],
      'pod.yaml',
    );
    const [member] = plans[0]!.members;
    expect(member!.options.volumes).toEqual(['/etc/hostname:/hostname:ro', '/srv/data:/data']);
    expect(member!.hostPaths).toEqual([
      { where: 'pod.yaml.spec.volumes[0].hostPath', path: '/etc/hostname', kind: 'File' },
    ]);
  });
});
