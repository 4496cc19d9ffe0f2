/**
 * `kube play` / `kube down` on the real kernel, in the suite's own network namespace: a pod's
 * containers share the infra container's network, ipc and uts namespaces (and its pid namespace
 * with shareProcessNamespace) and talk over localhost, or with hostPID/hostIPC (hostNetwork: the
 * uts namespace too) all are in the host's;
 * generate -> play -> generate gives the same manifest (host namespaces and volumes too); a play
 * that fails half-way and `kube down` leave no container behind.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  cgroupDirectories,
  engineForSuite,
  testName,
  waitFor,
  type TestEngine,
} from '../../support/engine.js';
import { validateManifest } from '../../support/kube-schema.js';
import { hostNamespace, inHostNamespaces, namespaceProbe } from '../../support/namespaces.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

async function inspectField(engine: TestEngine, name: string, template: string): Promise<string> {
  const result = await engine.gantry(['inspect', '-f', template, name]);
  expect(result.stderr).toBe('');
  return result.stdout.trim();
}

/** The namespace inode of a container's init (`net:[4026...]`). */
async function namespaceOf(engine: TestEngine, name: string, kind: string): Promise<string> {
  const pid = await inspectField(engine, name, '{{.State.Pid}}');
  return fs.readlinkSync(`/proc/${pid}/ns/${kind}`);
}

async function names(engine: TestEngine): Promise<string[]> {
  const listed = await engine.gantry(['ps', '-a', '--format', '{{.Names}}']);
  return listed.stdout.split('\n').filter(Boolean).sort();
}

/** The manifest without what changes between two generations (the timestamp). */
function stable(text: string): unknown {
  const manifest = parse(text) as { metadata: Record<string, unknown> };
  delete manifest.metadata.creationTimestamp;
  return manifest;
}

describeUnless(needsRoot(), 'kube play', () => {
  const engine = engineForSuite('kube-play');
  let scratch: string;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('kube-play')}-`));
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("runs a pod whose containers talk over localhost in the infra container's namespaces", async () => {
    const file = path.join(scratch, 'duo.yaml');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata:',
        '  name: duo',
        'spec:',
        '  shareProcessNamespace: true',
        '  containers:',
        '    - name: server',
        '      image: demo',
        '      command: [sh, -c]',
        "      args: ['echo hello over localhost > /tmp/index.html && exec httpd -f -p 8080 -h /tmp']",
        '    - name: client',
        '      image: demo',
        "      command: [sh, -c, 'until wget -qO /tmp/got http://127.0.0.1:8080/; do sleep 0.2; done; exec sleep 600']",
        '',
      ].join('\n'),
    );
    const played = await engine.gantry(['kube', 'play', file]);
    expect(played.stderr).toBe('');
    expect(played.exitCode).toBe(0);
    expect(played.stdout).toMatch(/^Pod:\n[0-9a-f]{64}\nContainers:\n[0-9a-f]{64}\n[0-9a-f]{64}\n/);
    expect(await names(engine)).toEqual(['duo-client', 'duo-infra', 'duo-server']);

    // The client fetched the page from the server over the pod's loopback.
    const got = await waitFor(
      async () => {
        const read = await engine.gantry(['exec', 'duo-client', 'cat', '/tmp/got']);
        return read.exitCode === 0 ? read.stdout : undefined;
      },
      60_000,
      'the client to fetch the page over localhost',
    );
    expect(got).toBe('hello over localhost\n');
    // One network, ipc, pid and uts namespace for the pod: the infra container's.
    for (const kind of ['net', 'ipc', 'pid', 'uts']) {
      const infra = await namespaceOf(engine, 'duo-infra', kind);
      expect(await namespaceOf(engine, 'duo-server', kind)).toBe(infra);
      expect(await namespaceOf(engine, 'duo-client', kind)).toBe(infra);
    }
    // The kernel's name of that uts namespace is the pod's (podman names a pod's host after it),
    // and /etc/hostname says the same; a container of no pod has a namespace and name of its own.
    for (const member of ['duo-server', 'duo-client']) {
      const named = await engine.gantry(['exec', member, 'sh', '-c', 'hostname; cat /etc/hostname']);
      expect(named.stdout, named.stderr).toBe('duo\nduo\n');
    }
    const loner = await engine.gantry([
      'run',
      '-d',
      '--network',
      'none',
      '--name',
      'loner',
      'demo',
      'sleep',
      '600',
    ]);
    expect(loner.exitCode, loner.stderr).toBe(0);
    expect(await namespaceOf(engine, 'loner', 'uts')).not.toBe(await namespaceOf(engine, 'duo-infra', 'uts'));
    const lonerName = await engine.gantry(['exec', 'loner', 'hostname']);
    expect(lonerName.stdout.trim()).toBe(loner.stdout.trim().slice(0, 12));
    expect((await engine.gantry(['rm', '-f', 'loner'])).exitCode).toBe(0);
    const [pod] = JSON.parse((await engine.gantry(['pod', 'inspect', 'duo'])).stdout) as unknown[];
    expect(pod).toMatchObject({
      Hostname: 'duo',
      SharedNamespaces: ['ipc', 'net', 'pid', 'uts'],
      InfraConfig: { HostNetwork: false, pid_ns: 'private', uts_ns: 'private' },
    });
    // The pause process is pid 1 of the shared pid namespace; the others see each other.
    const ps = await engine.gantry(['exec', 'duo-client', 'ps', '-o', 'pid,args']);
    expect(ps.stdout).toMatch(/^\s*1\s+\/pause$/m);
    expect(ps.stdout).toContain('httpd -f -p 8080');
    // The mount namespaces stay each container's own.
    expect(await namespaceOf(engine, 'duo-client', 'mnt')).not.toBe(
      await namespaceOf(engine, 'duo-server', 'mnt'),
    );

    const downed = await engine.gantry(['kube', 'down', file]);
    expect(downed.exitCode).toBe(0);
    expect(await names(engine)).toEqual([]);
  });

  it('round-trips: generate -> play -> generate gives the same manifest, valid against the schema', async () => {
    const site = path.join(scratch, 'site');
    fs.mkdirSync(site);
    const created = await engine.gantry([
      'create',
      '--name',
      'web',
      '--memory',
      '64m',
      '--cpus',
      '0.5',
      '--cpu-shares',
      '512',
      '-e',
      'MODE=test',
      '-w',
      '/tmp',
      '-p',
      '127.0.0.1:18081:80',
      '-v',
      `${site}:/site:ro`,
      '-v',
      `${testName('kube-data')}:/data`,
      '--tmpfs',
      '/scratch:size=8m',
      '-v',
      '/cache',
      'demo',
      'httpd',
      '-f',
      '-p',
      '80',
      '-h',
      '/site',
    ]);
    expect(created.exitCode).toBe(0);
    const first = await engine.gantry(['kube', 'generate', 'web']);
    expect(first.exitCode).toBe(0);
    expect(validateManifest(parse(first.stdout))).toBe('Pod');
    const file = path.join(scratch, 'web.yaml');
    fs.writeFileSync(file, first.stdout);
    expect((await engine.gantry(['rm', 'web'])).exitCode).toBe(0);

    const played = await engine.gantry(['kube', 'play', file]);
    expect(played.stderr).toBe('');
    expect(played.exitCode).toBe(0);
    expect(await names(engine)).toEqual(['web-pod-infra', 'web-pod-web']);
    // The limits are in force in the pod's container, not only written down.
    const id = await inspectField(engine, 'web-pod-web', '{{.Id}}');
    const limits = cgroupDirectories(path.join(engine.cgroupParent, id))
      .flatMap((dir) => ['memory.limit_in_bytes', 'memory.max'].map((name) => path.join(dir, name)))
      .filter((file) => fs.existsSync(file));
    expect(limits.map((file) => fs.readFileSync(file, 'utf8').trim())).toEqual(['67108864']);
    const again = await engine.gantry(['kube', 'generate', 'web-pod']);
    expect(again.exitCode).toBe(0);
    expect(validateManifest(parse(again.stdout))).toBe('Pod');
    expect(stable(again.stdout)).toEqual(stable(first.stdout));
    // Comments too (what Kubernetes cannot say), but for the container's new name.
    const comments = (text: string) => text.split('\n').filter((line) => line.startsWith('#   '));
    expect(comments(again.stdout)).toEqual(
      comments(first.stdout).map((line) => line.replace('#   web:', '#   web-pod-web:')),
    );

    expect((await engine.gantry(['kube', 'down', file])).exitCode).toBe(0);
    expect(await names(engine)).toEqual([]);
  });

  it("plays hostPID and hostIPC in the host's pid and ipc namespaces, and round-trips them", async () => {
    const created = await engine.gantry('create --name hp --pid host --ipc host demo sleep 600'.split(' '));
    expect(created.exitCode, created.stderr).toBe(0);
    const first = await engine.gantry(['kube', 'generate', 'hp']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(validateManifest(parse(first.stdout))).toBe('Pod');
    expect(parse(first.stdout)).toMatchObject({ spec: { hostPID: true, hostIPC: true } });
    const file = path.join(scratch, 'hp.yaml');
    fs.writeFileSync(file, first.stdout);
    expect((await engine.gantry(['rm', 'hp'])).exitCode).toBe(0);

    const shm = `/dev/shm/${testName('kube-host-ipc')}`;
    fs.writeFileSync(shm, 'from the host\n');
    try {
      const played = await engine.gantry(['kube', 'play', file]);
      expect(played.stderr).toBe('');
      expect(played.exitCode).toBe(0);
      expect(await names(engine)).toEqual(['hp-pod-hp', 'hp-pod-infra']);
      // The infra container and the pod's container, each in the host's pid and ipc namespaces.
      for (const kind of ['pid', 'ipc'] as const)
        expect(await namespaceOf(engine, 'hp-pod-infra', kind)).toBe(hostNamespace(kind));
      const probed = await engine.gantry([
        'exec',
        'hp-pod-hp',
        'sh',
        '-c',
        `${namespaceProbe(['pid', 'ipc', 'net'])}; test -d /proc/${process.pid} && echo sees-test-process; cat ${shm}`,
      ]);
      expect(probed.exitCode, probed.stderr).toBe(0);
      const lines = probed.stdout.split('\n');
      expect(inHostNamespaces(lines, ['pid', 'ipc'])).toEqual({ pid: true, ipc: true });
      // Its network namespace is still the pod's (the infra container's), not the host's.
      expect(lines[2]).toBe(await namespaceOf(engine, 'hp-pod-infra', 'net'));
      expect(lines.slice(3, 5)).toEqual(['sees-test-process', 'from the host']);
      // As podman shows such a pod: it still shares its ipc, net and uts namespaces (the ipc one
      // is the host's), not pid (no shareProcessNamespace); the infra container's pid is the host's.
      const [pod] = JSON.parse((await engine.gantry(['pod', 'inspect', 'hp-pod'])).stdout) as unknown[];
      expect(pod).toMatchObject({
        SharedNamespaces: ['ipc', 'net', 'uts'],
        InfraConfig: { HostNetwork: false, pid_ns: 'host', uts_ns: 'private' },
      });
    } finally {
      fs.rmSync(shm, { force: true });
    }

    const again = await engine.gantry(['kube', 'generate', 'hp-pod']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(stable(again.stdout)).toEqual(stable(first.stdout));
    expect((await engine.gantry(['kube', 'down', file])).exitCode).toBe(0);
    expect(await names(engine)).toEqual([]);
  });

  it("round-trips a pod in all three of the host's namespaces with each kind of volume", async () => {
    const site = path.join(scratch, 'host-site');
    fs.mkdirSync(site);
    const volume = testName('kube-host-data');
    const created = await engine.gantry([
      'create',
      '--name',
      'hx',
      ...['--network', 'host', '--pid', 'host', '--ipc', 'host'],
      ...['-v', `${site}:/site:ro`, '-v', `${volume}:/data`, '-v', '/cache'],
      ...['--tmpfs', '/scratch:size=8m', '-e', 'MODE=host', '-w', '/tmp'],
      'demo',
      ...['sleep', '600'],
    ]);
    expect(created.exitCode, created.stderr).toBe(0);
    const first = await engine.gantry(['kube', 'generate', 'hx']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(validateManifest(parse(first.stdout))).toBe('Pod');
    expect(parse(first.stdout)).toMatchObject({
      spec: { hostNetwork: true, hostPID: true, hostIPC: true },
    });
    const file = path.join(scratch, 'hx.yaml');
    fs.writeFileSync(file, first.stdout);
    expect((await engine.gantry(['rm', '-v', 'hx'])).exitCode).toBe(0);

    const played = await engine.gantry(['kube', 'play', file]);
    expect(played.exitCode, played.stderr).toBe(0);
    expect(played.stderr).toBe('');
    const hostNet = `net:[${fs.statSync(`/run/netns/${engine.netns}`).ino}]`;
    expect(await namespaceOf(engine, 'hx-pod-hx', 'net')).toBe(hostNet);
    for (const kind of ['pid', 'ipc'] as const)
      expect(await namespaceOf(engine, 'hx-pod-hx', kind)).toBe(hostNamespace(kind));
    const again = await engine.gantry(['kube', 'generate', 'hx-pod']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(validateManifest(parse(again.stdout))).toBe('Pod');
    expect(stable(again.stdout)).toEqual(stable(first.stdout));

    expect((await engine.gantry(['kube', 'down', file])).exitCode).toBe(0);
    expect(await names(engine)).toEqual([]);
    expect((await engine.gantry(['volume', 'rm', volume])).exitCode).toBe(0);
  });

  it('refuses a manifest it cannot play with the field and what is accepted, making nothing', async () => {
    const file = path.join(scratch, 'secret.yaml');
    fs.writeFileSync(
      file,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: [{name: a, image: demo, volumeMounts: [{name: s, mountPath: /s}]}]\n  volumes: [{name: s, secret: {secretName: x}}]\n',
    );
    const refused = await engine.gantry(['kube', 'play', file]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('volume type secret is not supported');
    expect(refused.stderr).toContain('supported volumes: hostPath');
    fs.writeFileSync(file, 'apiVersion: v1\nkind: Service\nmetadata: {name: svc}\n');
    const service = await engine.gantry(['kube', 'play', file]);
    expect(service.exitCode).toBe(1);
    expect(service.stderr).toContain('kind "Service" of apiVersion "v1" is not supported');
    expect(await names(engine)).toEqual([]);
  });

  it('refuses an unknown field with its path, as kubectl does, and a field it cannot honour, making nothing', async () => {
    const file = path.join(scratch, 'typo.yaml');
    fs.writeFileSync(
      file,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: typo}\nspec:\n  containers:\n    - {name: a, image: demo, command: [sleep, "600"]}\n    - {name: b, imagee: demo}\n',
    );
    const typo = await engine.gantry(['kube', 'play', file]);
    expect(typo.exitCode).not.toBe(0);
    expect(typo.stderr).toContain(`${file}: unknown field "spec.containers[1].imagee"`);
    expect(typo.stderr).toContain('did you mean "image"?');
    fs.writeFileSync(
      file,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: probe}\nspec:\n  containers:\n    - name: a\n      image: demo\n      livenessProbe: {httpGet: {port: 80}}\n',
    );
    const probe = await engine.gantry(['kube', 'play', file]);
    expect(probe.exitCode).not.toBe(0);
    expect(probe.stderr).toContain('spec.containers[0].livenessProbe.httpGet: is not supported');
    const missing = path.join(scratch, 'missing');
    fs.writeFileSync(
      file,
      `apiVersion: v1\nkind: Pod\nmetadata: {name: bind}\nspec:\n  containers: [{name: a, image: demo, volumeMounts: [{name: m, mountPath: /m}]}]\n  volumes: [{name: m, hostPath: {path: ${missing}, type: Directory}}]\n`,
    );
    const bind = await engine.gantry(['kube', 'play', file]);
    expect(bind.exitCode).not.toBe(0);
    expect(bind.stderr).toContain(`${missing} does not exist; type asks for a directory (type Directory)`);
    // Not made behind the user's back, as -v would have made it.
    expect(fs.existsSync(missing)).toBe(false);
    expect(await names(engine)).toEqual([]);
    expect(fs.readdirSync(path.join(engine.root, 'containers'))).toEqual([]);
  });

  it('plays hostNetwork in the host network namespace and an exec liveness probe as the health check', async () => {
    const file = path.join(scratch, 'host.yaml');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: host}',
        'spec:',
        '  hostNetwork: true',
        '  hostname: ignored',
        '  nodeSelector: {disk: ssd}',
        '  containers:',
        '    - name: well',
        '      image: demo',
        '      command: [sleep, "600"]',
        '      livenessProbe: {exec: {command: [test, -d, /]}, periodSeconds: 1}',
        '    - name: ill',
        '      image: demo',
        '      command: [sleep, "600"]',
        '      livenessProbe: {exec: {command: [test, -e, /missing]}, periodSeconds: 1, failureThreshold: 1}',
        '',
      ].join('\n'),
    );
    const played = await engine.gantry(['kube', 'play', file]);
    expect(played.exitCode, played.stderr).toBe(0);
    expect(played.stderr).toContain('spec.nodeSelector is ignored: scheduling has no meaning on one machine');
    expect(played.stderr).toContain("livenessProbe runs as the container's health check");
    // The suite's network namespace is this engine's host network.
    const hostNet = `net:[${fs.statSync(`/run/netns/${engine.netns}`).ino}]`;
    expect(await namespaceOf(engine, 'host-well', 'net')).toBe(hostNet);
    // podman's kube play: hostNetwork brings the host's uts namespace, and its name, to the pod.
    for (const name of ['host-infra', 'host-well', 'host-ill'])
      expect(await namespaceOf(engine, name, 'uts')).toBe(hostNamespace('uts'));
    const named = await engine.gantry(['exec', 'host-well', 'sh', '-c', 'hostname; cat /etc/hostname']);
    expect(named.stdout, named.stderr).toBe(`${os.hostname()}\n${os.hostname()}\n`);
    expect(played.stderr).toContain("spec.hostname is ignored: with hostNetwork the pod has the host's name");
    const [pod] = JSON.parse((await engine.gantry(['pod', 'inspect', 'host'])).stdout) as unknown[];
    expect(pod).toMatchObject({
      Hostname: os.hostname(),
      SharedNamespaces: ['ipc', 'net', 'uts'],
      InfraConfig: { HostNetwork: true, pid_ns: 'private', uts_ns: 'host' },
    });
    const health = (name: string) => inspectField(engine, name, '{{.State.Health.Status}}');
    await waitFor(async () => (await health('host-well')) === 'healthy', 120_000, 'the probe to pass');
    await waitFor(async () => (await health('host-ill')) === 'unhealthy', 120_000, 'the probe to fail');
    // generate says so again, so the pod round-trips.
    const generated = await engine.gantry(['kube', 'generate', 'host']);
    expect(generated.exitCode, generated.stderr).toBe(0);
    expect(parse(generated.stdout)).toMatchObject({ spec: { hostNetwork: true } });
    // The host's name is not the pod's to give: play gives it again from hostNetwork.
    expect(parse(generated.stdout)).not.toHaveProperty('spec.hostname');
    expect((await engine.gantry(['kube', 'down', file])).exitCode).toBe(0);
    expect(await names(engine)).toEqual([]);
  }, 600_000);

  it('removes what a play made when a later container cannot be made', async () => {
    const file = path.join(scratch, 'half.yaml');
    fs.writeFileSync(
      file,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: half}\nspec:\n  containers:\n    - {name: good, image: demo, command: [sleep, "600"]}\n    - {name: missing, image: no-such-image}\n',
    );
    const failed = await engine.gantry(['kube', 'play', file]);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain('no-such-image');
    expect(await names(engine)).toEqual([]);
  });
});
