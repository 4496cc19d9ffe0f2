/**
 * Every command with `--host ssh://...` against a real OpenSSH server on 127.0.0.1 whose sessions
 * run this checkout's gantry on a second state root (the "remote" host): the commands the protocol
 * has no call for run whole on the host (relayed.ts), their effect checked in the remote root and
 * never in this machine's (tag, history, export/save/load/import, the prunes, pods among them); the
 * options of served commands that need the host's own files (ps --size, events --since/--until)
 * too; and what names a file on this machine is refused, naming the command and the host, with
 * nothing done on either side. Push is in ssh.int.test.ts, with the registry of its pull.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { GANTRY, waitFor } from '../../support/engine.js';
import { remoteHostForSuite, type ClientOptions } from '../../support/remote-host.js';
import { describeUnless, needsRoot } from '../../support/skip.js';
import { needsSshd } from '../../support/sshd.js';

describeUnless([needsRoot(), needsSshd()], 'gantry --host ssh:// for every command', () => {
  const host = remoteHostForSuite('remote-relay');
  /** `gantry --host URL ARGS` on this machine. */
  const client = (args: readonly string[], options?: ClientOptions) =>
    host.client(['--host', host.url, ...args], options);
  const direct = (args: readonly string[]) => host.remote.gantry(args);
  /** The remote root's image names (repository:tag) of one repository. */
  const tagsOf = async (repository: string) =>
    (await direct(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout
      .split('\n')
      .filter((name) => name.startsWith(`${repository}:`))
      .sort();
  /** This machine's root stays as the test made it: nothing a --host command does lands here. */
  const localUntouched = () => expect(host.localLeftovers()).toEqual([]);

  it('creates, inspects and removes volumes and networks on the remote host', async () => {
    expect(await client(['volume', 'create', 'far-vol'])).toMatchObject({ exitCode: 0, stdout: 'far-vol' });
    expect(fs.existsSync(path.join(host.remote.root, 'volumes', 'far-vol', '_data'))).toBe(true);
    const volume = await client(['volume', 'inspect', '--format', '{{.Mountpoint}}', 'far-vol']);
    expect(volume.stdout).toBe(path.join(host.remote.root, 'volumes', 'far-vol', '_data'));
    expect(await client(['volume', 'rm', 'far-vol'])).toMatchObject({ exitCode: 0, stdout: 'far-vol' });
    expect(fs.existsSync(path.join(host.remote.root, 'volumes', 'far-vol'))).toBe(false);
    const missing = await client(['volume', 'inspect', 'far-vol']);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toContain('far-vol');

    const created = await client(['network', 'create', '--subnet', '10.251.7.0/24', 'far-net']);
    expect(created.stderr).toBe('');
    expect(created.exitCode).toBe(0);
    expect((await direct(['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n')).toContain(
      'far-net',
    );
    const inspected = JSON.parse((await client(['network', 'inspect', 'far-net'])).stdout) as {
      Name: string;
      IPAM: { Config: { Subnet: string }[] };
    }[];
    expect(inspected[0]).toMatchObject({ Name: 'far-net', IPAM: { Config: [{ Subnet: '10.251.7.0/24' }] } });
    expect(await client(['network', 'rm', 'far-net'])).toMatchObject({ exitCode: 0, stdout: 'far-net' });
    expect((await direct(['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n')).not.toContain(
      'far-net',
    );
    localUntouched();
  });

  it('renames, tops, diffs, ports, commits and exports a remote container', async () => {
    const run = await client([
      'run',
      '-d',
      '--name',
      'busy',
      'demo',
      'sh',
      '-c',
      'echo x > /made-here; exec sleep 86400',
    ]);
    expect(run.exitCode).toBe(0);
    const id = run.stdout.trim();
    await waitFor(
      async () => (await direct(['diff', 'busy'])).stdout.includes('/made-here') || undefined,
      60_000,
      'the file the container makes',
    );
    expect((await client(['rename', 'busy', 'renamed'])).exitCode).toBe(0);
    expect((await direct(['inspect', '--format', '{{.Name}}', id])).stdout.trim()).toBe('/renamed');

    const top = await client(['top', 'renamed']);
    expect(top.exitCode).toBe(0);
    expect(top.stdout).toContain('sleep 86400');
    const diff = await client(['diff', 'renamed']);
    expect(diff.stdout.split('\n')).toContain('A /made-here');
    const port = await client(['port', 'renamed']);
    expect(port).toMatchObject({ exitCode: 0, stdout: '' });

    const committed = await client(['commit', 'renamed', 'far-commit:1']);
    expect(committed.stderr).toBe('');
    expect(committed.exitCode).toBe(0);
    expect((await direct(['image', 'inspect', '--format', '{{.Id}}', 'far-commit:1'])).stdout.trim()).toBe(
      committed.stdout.trim(),
    );
    expect((await client(['tag', 'far-commit:1', 'far-commit:2'])).exitCode).toBe(0);
    expect(await tagsOf('far-commit')).toEqual(['far-commit:1', 'far-commit:2']);
    const history = await client(['history', '-q', 'far-commit:1']);
    expect(history.exitCode).toBe(0);

    // export: to this machine's stdout, and to a file on this machine with -o.
    const archive = path.join(host.work, 'renamed.tar');
    const exported = await client(['export', '-o', archive, 'renamed']);
    expect(exported).toMatchObject({ exitCode: 0, stderr: '' });
    const names = (await execa('tar', ['-tf', archive])).stdout.split('\n');
    expect(names).toContain('made-here');
    // save to a file here, and load it back on the host from this stdin under another name.
    const saved = path.join(host.work, 'saved.tar');
    expect((await client(['save', '-o', saved, 'far-commit:1'])).exitCode).toBe(0);
    expect(fs.statSync(saved).size).toBeGreaterThan(0);
    expect((await client(['rmi', 'far-commit:1', 'far-commit:2'])).exitCode).toBe(0);
    const loaded = await client(['load'], { inputFile: saved });
    expect(loaded.stderr).toBe('');
    expect(loaded.stdout).toContain('far-commit:1');
    expect(await tagsOf('far-commit')).toEqual(['far-commit:1']);
    const imported = await client(['import', '-', 'far-import:1'], { inputFile: archive });
    expect(imported.exitCode).toBe(0);
    expect(await tagsOf('far-import')).toEqual(['far-import:1']);

    expect((await client(['rm', '-f', 'renamed'])).exitCode).toBe(0);
    expect((await direct(['rmi', 'far-commit:1', 'far-import:1'])).exitCode).toBe(0);
    localUntouched();
  });

  it('reads sizes, past events, log times and one stats sample from the remote host', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const run = await client([
      'run',
      '-d',
      '--name',
      'sized',
      'demo',
      'sh',
      '-c',
      'head -c 300000 /dev/zero > /fill; echo logged; exec sleep 86400',
    ]);
    expect(run.exitCode).toBe(0);
    await waitFor(
      async () => (await direct(['logs', 'sized'])).stdout.includes('logged') || undefined,
      60_000,
      'the log line',
    );
    const sizes = await client(['ps', '--size', '--format', '{{.Names}} {{.Size}}']);
    expect(sizes.stderr).toBe('');
    expect(sizes.stdout).toBe(
      (await direct(['ps', '--size', '--format', '{{.Names}} {{.Size}}'])).stdout.trimEnd(),
    );
    expect(sizes.stdout).toMatch(/^sized \d/);

    // An --until just ahead: the host tells the past, then the live stream up to it.
    const until = new Date(Date.now() + 1000).toISOString();
    const events = await client([
      'events',
      '--since',
      since,
      '--until',
      until,
      '--format',
      '{{.Action}} {{.Actor.Attributes.name}}',
    ]);
    expect(events.exitCode).toBe(0);
    expect(events.stdout.split('\n')).toContain('start sized');

    const logs = await client(['logs', '--timestamps', '--since', since, 'sized']);
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+Z logged$/m);

    const stats = await client(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'sized']);
    expect(stats.exitCode).toBe(0);
    expect(stats.stdout).toBe('sized 1');

    const waited = client(['wait', 'sized']);
    expect((await client(['kill', 'sized'])).exitCode).toBe(0);
    expect(await waited).toMatchObject({ exitCode: 0, stdout: '137' });
    expect((await client(['rm', 'sized'])).exitCode).toBe(0);

    const info = await client(['info', '--format', '{{.DockerRootDir}}']);
    expect(info).toMatchObject({ exitCode: 0, stdout: host.remote.root });
    const df = await client(['system', 'df', '--format', '{{.Type}}']);
    expect(df.stdout.split('\n')).toContain('Images');
    localUntouched();
  });

  it('checks health, writes manifests and units, lists pods and prunes on the remote host', async () => {
    const run = await client([
      'run',
      '-d',
      '--name',
      'checked',
      '--health-cmd',
      'true',
      'demo',
      'sleep',
      '86400',
    ]);
    expect(run.exitCode).toBe(0);
    const health = await client(['healthcheck', 'run', 'checked']);
    // podman's: a healthy check says nothing and exits 0.
    expect(health).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    const manifest = await client(['kube', 'generate', 'checked']);
    expect(manifest.exitCode).toBe(0);
    expect(manifest.stdout).toContain('kind: Pod');
    expect(manifest.stdout).toContain('sleep');
    const unit = await client(['generate', 'systemd', '--name', 'checked']);
    expect(unit.exitCode).toBe(0);
    expect(unit.stdout).toContain('[Service]');
    expect(unit.stdout).toContain(host.remote.root);
    expect((await client(['pod', 'ls'])).exitCode).toBe(0);
    expect((await client(['rm', '-f', 'checked'])).exitCode).toBe(0);

    const stopped = (await client(['create', '--name', 'stopped-one', 'demo', 'true'])).stdout.trim();
    expect(fs.existsSync(path.join(host.remote.root, 'containers', stopped))).toBe(true);
    const pruned = await client(['container', 'prune', '-f']);
    expect(pruned.exitCode).toBe(0);
    expect(pruned.stdout).toContain(stopped);
    expect(fs.existsSync(path.join(host.remote.root, 'containers', stopped))).toBe(false);
    expect((await client(['image', 'prune', '-f'])).exitCode).toBe(0);
    localUntouched();
  });

  it("tags, shows an image's history and prunes volumes, networks and the system on the remote host", async () => {
    expect(await client(['image', 'tag', 'demo', 'far-tagged:1'])).toMatchObject({ exitCode: 0, stderr: '' });
    expect(await tagsOf('far-tagged')).toEqual(['far-tagged:1']);
    // The remote root's layers (CreatedSince is relative to the moment asked: left out).
    const historyOf = (stdout: string) =>
      (JSON.parse(stdout) as Record<string, unknown>[]).map(({ CreatedSince: _, ...layer }) => layer);
    const history = await client(['image', 'history', '--json', 'far-tagged:1']);
    expect(history).toMatchObject({ exitCode: 0, stderr: '' });
    expect(historyOf(history.stdout).map((layer) => layer.CreatedBy)).toContain('gantry image from-host');
    expect(historyOf(history.stdout)).toEqual(
      historyOf((await direct(['image', 'history', '--json', 'far-tagged:1'])).stdout),
    );
    expect((await direct(['rmi', 'far-tagged:1'])).exitCode).toBe(0);

    const volumes = () => fs.readdirSync(path.join(host.remote.root, 'volumes')).sort();
    const networks = async () =>
      (await direct(['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n').filter(Boolean);
    for (const name of ['unused-vol', 'used-vol'])
      expect((await direct(['volume', 'create', name])).exitCode).toBe(0);
    const holder = (
      await direct(['create', '--name', 'holder', '-v', 'used-vol:/data', 'demo', 'true'])
    ).stdout.trim();
    expect(holder).toMatch(/^[0-9a-f]{64}$/);
    const prunedVolumes = await client(['volume', 'prune', '--all', '--force']);
    expect(prunedVolumes).toMatchObject({ exitCode: 0, stderr: '' });
    expect(prunedVolumes.stdout).toMatch(/^Deleted Volumes:\nunused-vol\n/);
    expect(volumes()).toContain('used-vol');
    expect(volumes()).not.toContain('unused-vol');

    expect((await direct(['network', 'create', '--subnet', '10.251.8.0/24', 'idle-net'])).exitCode).toBe(0);
    const prunedNetworks = await client(['network', 'prune', '--force']);
    expect(prunedNetworks).toMatchObject({ exitCode: 0, stderr: '' });
    expect(prunedNetworks.stdout).toContain('idle-net');
    expect(await networks()).not.toContain('idle-net');

    // system prune asks first, on this terminal's stdin relayed: "n" leaves everything.
    expect((await direct(['network', 'create', '--subnet', '10.251.9.0/24', 'idle-net2'])).exitCode).toBe(0);
    const declined = await client(['system', 'prune'], { input: 'n\n' });
    expect(declined.exitCode).toBe(0);
    expect(declined.stdout).toContain('Are you sure you want to continue? [y/N]');
    expect(fs.existsSync(path.join(host.remote.root, 'containers', holder))).toBe(true);
    expect(await networks()).toContain('idle-net2');
    const pruned = await client(['system', 'prune'], { input: 'y\n' });
    expect(pruned.stderr).toBe('');
    expect(pruned.exitCode).toBe(0);
    expect(pruned.stdout).toContain(`Deleted Containers:\n${holder}`);
    expect(pruned.stdout).toContain('idle-net2');
    expect(fs.existsSync(path.join(host.remote.root, 'containers', holder))).toBe(false);
    expect(await networks()).not.toContain('idle-net2');
    // Without --volumes the volume stays; the image with a name stays.
    expect(volumes()).toContain('used-vol');
    expect(await tagsOf('demo')).toEqual(['demo:latest']);
    expect((await direct(['volume', 'rm', 'used-vol'])).exitCode).toBe(0);
    localUntouched();
  });

  it('starts, stops and removes a pod on the remote host', async () => {
    const manifest = path.join(host.work, 'pod.yaml');
    fs.writeFileSync(
      manifest,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: far-pod}',
        'spec:',
        '  containers:',
        '    - {name: box, image: demo, command: [sleep, "600"]}',
        '',
      ].join('\n'),
    );
    // kube play names a file: it is the remote host's own (played there directly).
    const played = await direct(['kube', 'play', '--start', 'false', manifest]);
    expect(played.exitCode).toBe(0);
    const states = async () =>
      (await direct(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout.trim().split('\n').sort();
    expect(await states()).toEqual(['far-pod-box created', 'far-pod-infra created']);

    const started = await client(['pod', 'start', 'far-pod']);
    expect(started.stderr).toBe('');
    expect(started.exitCode).toBe(0);
    expect(await states()).toEqual(['far-pod-box running', 'far-pod-infra running']);
    const pid = Number(
      (await direct(['inspect', '--format', '{{.State.Pid}}', 'far-pod-box'])).stdout.trim(),
    );
    expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(host.remote.cgroupParent);

    const stopped = await client(['pod', 'stop', '-t', '1', 'far-pod']);
    expect(stopped).toMatchObject({ exitCode: 0, stderr: '' });
    expect(await states()).toEqual(['far-pod-box exited', 'far-pod-infra exited']);
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);

    const removed = await client(['pod', 'rm', 'far-pod']);
    expect(removed).toMatchObject({ exitCode: 0, stderr: '' });
    expect((await direct(['ps', '-aq'])).stdout.trim()).toBe('');
    const missing = await client(['pod', 'inspect', 'far-pod']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('no such pod: far-pod');
    localUntouched();
  });

  it('refuses what names a file on this machine, naming the command and the host', async () => {
    const context = path.join(host.work, 'context');
    fs.mkdirSync(context);
    fs.writeFileSync(path.join(context, 'Containerfile'), 'FROM demo\n');
    const refused: [string[], string][] = [
      [['build', '-t', 'x', context], "'build' does not work on a remote host"],
      [['kube', 'play', path.join(context, 'Containerfile')], "'kube play' does not work on a remote host"],
      [['login', '-u', 'u', '--password-stdin', '127.0.0.1:1'], "'login' does not work on a remote host"],
      [
        ['load', '-i', path.join(host.work, 'nothing.tar')],
        "'load' with a local file does not work on a remote host",
      ],
      [
        ['import', path.join(host.work, 'nothing.tar')],
        "'import' with a local file does not work on a remote host",
      ],
      [['connection', 'ls'], "'connection' does not work on a remote host"],
    ];
    for (const [args, said] of refused) {
      const result = await client(args);
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 125 });
      expect(result.stderr).toContain(said);
      expect(result.stderr).toContain(`(--host ${host.url})`);
    }
    expect(await tagsOf('x')).toEqual([]);
    localUntouched();
  });

  it('lets a host run nothing but what the table relays, whatever a client sends', async () => {
    // A client of its own speaking the protocol: the service refuses a command off the table.
    const service = execa(GANTRY, ['system', 'service', '--stdio'], { env: host.remote.env, reject: false });
    const lines: string[] = [];
    let buffer = '';
    service.stdout!.on('data', (data: Buffer) => {
      buffer += data.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      lines.push(...parts);
    });
    service.stdin!.write(
      `${JSON.stringify({ id: 1, method: 'command', params: { argv: ['build', '-t', 'y', '/'] } })}\n`,
    );
    service.stdin!.write(
      `${JSON.stringify({ id: 2, method: 'command', params: { argv: ['system', 'service', '--stdio'] } })}\n`,
    );
    await waitFor(
      () => (lines.filter((line) => line.includes('"error"')).length >= 2 ? true : undefined),
      60_000,
      'both refusals',
    );
    service.stdin!.end();
    await service;
    const errors = lines
      .map((line) => JSON.parse(line) as { id?: number; error?: { message: string } })
      .filter((m) => m.error);
    expect(errors.map((message) => message.id).sort()).toEqual([1, 2]);
    expect(errors.find((message) => message.id === 1)!.error!.message).toContain(
      "'build' does not work on a remote host",
    );
    expect(errors.find((message) => message.id === 2)!.error!.message).toContain(
      "'system service' does not work on a remote host",
    );
  });
});
