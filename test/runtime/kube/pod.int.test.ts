/**
 * `gantry pod ls|inspect|start|stop|rm` and `ps --pod` on a pod `kube play` made from a Deployment,
 * in the suite's own network namespace: what the commands say is checked against what the
 * containers' states are, and removal leaves no container behind.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, testName, type TestEngine } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

async function states(engine: TestEngine): Promise<Record<string, string>> {
  const listed = await engine.gantry(['ps', '-a', '--format', '{{.Names}} {{.State}}']);
  return Object.fromEntries(
    listed.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ') as [string, string]),
  );
}

describeUnless(needsRoot(), 'gantry pod', () => {
  const engine = engineForSuite('kube-pod');
  let scratch: string;
  let file: string;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('kube-pod')}-`));
    file = path.join(scratch, 'deployment.yaml');
    fs.writeFileSync(
      file,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: shop}',
        'spec:',
        '  replicas: 1',
        '  selector: {matchLabels: {app: shop}}',
        '  template:',
        '    metadata: {labels: {app: shop}}',
        '    spec:',
        '      containers:',
        '        - {name: front, image: demo, command: [sleep, "600"]}',
        '        - {name: back, image: demo, command: [sleep, "600"]}',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('plays a Deployment as one pod; pod ls, inspect and ps --pod show it as its containers are', async () => {
    const played = await engine.gantry(['kube', 'play', '--start', 'false', file]);
    expect(played.stderr).toBe('');
    expect(played.exitCode).toBe(0);
    const podId = played.stdout.split('\n')[1]!;
    expect(await states(engine)).toEqual({
      'shop-pod-infra': 'created',
      'shop-pod-front': 'created',
      'shop-pod-back': 'created',
    });
    const listed = await engine.gantry(['pod', 'ls']);
    expect(listed.stdout).toMatch(/^POD ID\s+NAME\s+STATUS\s+CREATED\s+INFRA ID\s+# OF CONTAINERS\n/);
    expect(listed.stdout).toMatch(
      new RegExp(`^${podId.slice(0, 12)}\\s+shop-pod\\s+Created\\s+.*\\s+3$`, 'm'),
    );

    const started = await engine.gantry(['pod', 'start', 'shop-pod']);
    expect(started.stderr).toBe('');
    expect(started.stdout.trim()).toBe(podId);
    expect(await states(engine)).toEqual({
      'shop-pod-infra': 'running',
      'shop-pod-front': 'running',
      'shop-pod-back': 'running',
    });
    const [inspected] = JSON.parse((await engine.gantry(['pod', 'inspect', 'shop-pod'])).stdout) as {
      Id: string;
      State: string;
      InfraContainerID: string;
      InfraConfig: unknown;
      SharedNamespaces: string[];
      NumContainers: number;
      Containers: { Name: string; State: string }[];
    }[];
    expect(inspected).toMatchObject({
      Id: podId,
      State: 'Running',
      InfraConfig: { HostNetwork: false, pid_ns: 'private', uts_ns: 'private' },
      SharedNamespaces: ['ipc', 'net', 'uts'],
      NumContainers: 3,
    });
    const infraId = (await engine.gantry(['inspect', '-f', '{{.Id}}', 'shop-pod-infra'])).stdout.trim();
    expect(inspected!.InfraContainerID).toBe(infraId);

    const ps = await engine.gantry(['ps', '--pod']);
    expect(ps.stdout.split('\n')[0]).toMatch(/NAMES\s+POD ID\s+PODNAME$/);
    for (const name of ['shop-pod-infra', 'shop-pod-front', 'shop-pod-back'])
      expect(ps.stdout).toMatch(new RegExp(`${name}\\s+${podId.slice(0, 12)}\\s+shop-pod$`, 'm'));
  });

  it('stops a pod, refuses to remove a running one without -f, and removes it with its containers', async () => {
    // One member stopped by hand: the pod is degraded, and says so.
    expect((await engine.gantry(['stop', '-t', '1', 'shop-pod-back'])).exitCode).toBe(0);
    expect(JSON.parse((await engine.gantry(['pod', 'inspect', 'shop-pod'])).stdout)[0].State).toBe(
      'Degraded',
    );
    const refused = await engine.gantry(['pod', 'rm', 'shop-pod']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('pod shop-pod is running');
    expect(refused.stderr).toContain('pod stop shop-pod');

    expect((await engine.gantry(['pod', 'stop', '-t', '1', 'shop-pod'])).exitCode).toBe(0);
    expect(Object.values(await states(engine))).toEqual(['exited', 'exited', 'exited']);
    expect(JSON.parse((await engine.gantry(['pod', 'inspect', 'shop-pod'])).stdout)[0].State).toBe('Exited');

    const removed = await engine.gantry(['pod', 'rm', 'shop-pod']);
    expect(removed.exitCode).toBe(0);
    expect(await states(engine)).toEqual({});
    const missing = await engine.gantry(['pod', 'inspect', 'shop-pod']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('no such pod: shop-pod');
  });
});
