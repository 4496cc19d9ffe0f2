/**
 * `kube generate` on real containers: the manifest says what differs from the image, the ports,
 * mounts and the limits the container has now (after an `update`), lists what Kubernetes cannot
 * say in its comment, and validates against the Kubernetes OpenAPI schema as a Pod and as a
 * Deployment. Containers are only created (nothing runs), in the suite's own network namespace.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { engineForSuite, testName } from '../../support/engine.js';
import { validateManifest } from '../../support/kube-schema.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value: string }[];
  workingDir?: string;
  ports?: { containerPort: number; hostPort?: number; hostIP?: string; protocol?: string }[];
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  volumes?: Record<string, unknown>[];
  restartPolicy?: string;
}

describeUnless(needsRoot(), 'kube generate', () => {
  const engine = engineForSuite('kube-generate');
  let scratch: string;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('kube-gen')}-`));
    fs.mkdirSync(path.join(scratch, 'site'));
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('writes a Pod with what differs from the image, ports, mounts and the limits the container has now', async () => {
    const created = await engine.gantry([
      'create',
      '--name',
      'web',
      '--memory',
      '64m',
      '--memory-reservation',
      '32m',
      '--cpus',
      '0.5',
      '--cpu-shares',
      '512',
      '--pids-limit',
      '100',
      '--cpuset-cpus',
      '0',
      '-e',
      'GREETING=hello world',
      '-w',
      '/srv',
      '-u',
      '1000:1000',
      '--cap-add',
      'NET_ADMIN',
      '-p',
      '127.0.0.1:8080:80',
      '-p',
      '5353:53/udp',
      '-v',
      `${path.join(scratch, 'site')}:/site:ro`,
      '-v',
      'data:/data',
      '--tmpfs',
      '/scratch:size=16m',
      'demo',
      'httpd',
      '-f',
      '-p',
      '80',
    ]);
    expect(created.stderr).toBe('');
    expect(created.exitCode).toBe(0);
    // The limit the manifest must carry is the one in force now, not the one it was made with.
    expect((await engine.gantry(['update', '--memory', '96m', '--memory-swap', '-1', 'web'])).exitCode).toBe(
      0,
    );

    const generated = await engine.gantry(['kube', 'generate', 'web']);
    expect(generated.stderr).toBe('');
    expect(generated.exitCode).toBe(0);
    const manifest = parse(generated.stdout) as { kind: string; metadata: { name: string }; spec: PodSpec };
    expect(validateManifest(manifest)).toBe('Pod');
    expect(manifest.metadata.name).toBe('web-pod');
    const [container] = manifest.spec.containers;
    expect(container).toMatchObject({
      name: 'web',
      image: 'demo',
      args: ['httpd', '-f', '-p', '80'],
      env: [{ name: 'GREETING', value: 'hello world' }],
      workingDir: '/srv',
      securityContext: { runAsUser: 1000, runAsGroup: 1000, capabilities: { add: ['NET_ADMIN'] } },
      resources: { limits: { memory: '96Mi', cpu: '500m' }, requests: { memory: '32Mi', cpu: '500m' } },
    });
    // The image's own command and environment are left to the image.
    expect(container!.command).toBeUndefined();
    expect(container!.env!.map((entry) => entry.name)).not.toContain('PATH');
    expect(container!.ports).toEqual([
      { containerPort: 53, hostPort: 5353, protocol: 'UDP' },
      { containerPort: 80, hostPort: 8080, hostIP: '127.0.0.1' },
    ]);
    const volumes = new Map(manifest.spec.volumes!.map((volume) => [volume.name as string, volume]));
    const byPath = new Map(container!.volumeMounts!.map((mount) => [mount.mountPath, mount]));
    expect(byPath.get('/site')!.readOnly).toBe(true);
    expect(volumes.get(byPath.get('/site')!.name)).toMatchObject({
      hostPath: { path: path.join(scratch, 'site'), type: 'Directory' },
    });
    expect(volumes.get(byPath.get('/data')!.name)).toMatchObject({
      persistentVolumeClaim: { claimName: 'data' },
    });
    expect(volumes.get(byPath.get('/scratch')!.name)).toMatchObject({
      emptyDir: { medium: 'Memory', sizeLimit: '16Mi' },
    });
    // What Kubernetes cannot say is in the comment, not lost.
    const comment = generated.stdout
      .split('\n')
      .filter((line) => line.startsWith('#'))
      .join('\n');
    expect(comment).toContain('web: pids limit 100');
    expect(comment).toContain('web: cpuset 0');
    expect(comment).toContain('web: memory+swap unlimited');
  });

  it('writes a Deployment with --type deployment, valid against the schema', async () => {
    const generated = await engine.gantry(['kube', 'generate', '--type', 'deployment', 'web']);
    expect(generated.exitCode).toBe(0);
    const manifest = parse(generated.stdout) as {
      metadata: { name: string };
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
      };
    };
    expect(validateManifest(manifest)).toBe('Deployment');
    expect(manifest.metadata.name).toBe('web-deployment');
    expect(manifest.spec.template.metadata.labels).toMatchObject(manifest.spec.selector.matchLabels);
    expect(manifest.spec.template.spec.containers[0]!.resources!.limits!.memory).toBe('96Mi');
  });

  it('puts several containers in one pod; the schema refuses a manifest with a wrong type', async () => {
    expect(
      (await engine.gantry(['create', '--name', 'sidecar', '--network', 'none', 'demo', 'sleep', '60']))
        .exitCode,
    ).toBe(0);
    const generated = await engine.gantry(['kube', 'generate', 'web', 'sidecar']);
    expect(generated.exitCode).toBe(0);
    const manifest = parse(generated.stdout) as { spec: PodSpec };
    expect(validateManifest(manifest)).toBe('Pod');
    expect(manifest.spec.containers.map((container) => container.name)).toEqual(['web', 'sidecar']);
    // The validator is not a rubber stamp.
    manifest.spec.containers[0]!.ports![0]!.containerPort = 'eighty' as unknown as number;
    expect(() => validateManifest(manifest)).toThrow(/containerPort must be integer/);
  });

  it('writes the file with -f, and refuses a bad --type or an unknown container with what is accepted', async () => {
    const file = path.join(scratch, 'web.yaml');
    const written = await engine.gantry(['kube', 'generate', '-f', file, 'web']);
    expect(written.exitCode).toBe(0);
    expect(validateManifest(parse(fs.readFileSync(file, 'utf8')))).toBe('Pod');

    const badType = await engine.gantry(['kube', 'generate', '--type', 'job', 'web']);
    expect(badType.exitCode).toBe(125);
    expect(badType.stderr).toContain('accepted: pod, deployment');
    const missing = await engine.gantry([
      'kube',
      'generate',
      '-f',
      path.join(scratch, 'none.yaml'),
      'nosuch',
    ]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('no such container: nosuch');
    expect(fs.existsSync(path.join(scratch, 'none.yaml'))).toBe(false);
  });
});
