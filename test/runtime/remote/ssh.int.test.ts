/**
 * The engine of another host over ssh: a real OpenSSH server on 127.0.0.1 (test/support/sshd.ts)
 * whose sessions run this checkout's gantry against a second state root, the "remote" host. Every
 * command here goes through the user-side ssh client, the protocol, and the remote engine; what it
 * did is checked in the remote root and on the kernel, never in the client's output alone.
 */
import { execa, execaSync } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import {
  createTestNetns,
  deleteTestNetns,
  GANTRY,
  testName,
  waitFor,
  type TestEngine,
} from '../../support/engine.js';
import { startRegistry, type Registry } from '../images/registry-support.js';
import { describeUnless, needsCommand, needsRoot, skipIf } from '../../support/skip.js';
import { startTmux } from '../../../scripts/lib/tmux.mjs';
import { needsSshd, startSshd, type TestSshd } from '../../support/sshd.js';
import { remoteHostForSuite } from '../../support/remote-host.js';

describeUnless([needsRoot(), needsSshd()], 'gantry --host ssh://', () => {
  const host = remoteHostForSuite('remote');
  let remote: TestEngine;
  let sshd: TestSshd;
  let localRoot: string;
  let url: string;
  beforeAll(() => ({ remote, sshd, localRoot, url } = host));

  /** `gantry ARGS` on this machine (its own empty root), with the test server's ssh config. */
  const client = (args: readonly string[], env: Record<string, string> = {}) => host.client(args, { env });

  it('runs, lists, inspects, logs, stops and removes a container of the remote host', async () => {
    const run = await client([
      '--host',
      url,
      'run',
      '-d',
      '--name',
      'far',
      'demo',
      'sh',
      '-c',
      'echo hello from afar; sleep 86400',
    ]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const id = run.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    // It is the remote root's container: recorded there, not in this machine's root.
    expect(fs.existsSync(path.join(remote.root, 'containers', id))).toBe(true);
    expect(fs.existsSync(path.join(localRoot, 'containers'))).toBe(false);

    const ps = await client(['--host', url, 'ps', '--format', '{{.ID}} {{.Names}} {{.State}}']);
    expect(ps.stdout.trim()).toBe(`${id.slice(0, 12)} far running`);
    expect((await client(['ps', '-q'])).stdout.trim()).toBe('');

    const inspected = await client(['--host', url, 'inspect', 'far']);
    expect(inspected.exitCode).toBe(0);
    const [details] = JSON.parse(inspected.stdout) as {
      Id: string;
      State: { Pid: number; Running: boolean };
    }[];
    expect(details!.Id).toBe(id);
    expect(details!.State.Running).toBe(true);
    // The process the remote engine started runs (this "remote" host shares the kernel), in the
    // remote engine's cgroup parent.
    const pid = details!.State.Pid;
    expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(remote.cgroupParent);

    await waitFor(
      async () =>
        (await client(['--host', url, 'logs', 'far'])).stdout.includes('hello from afar') || undefined,
      60_000,
      'the remote log to hold the greeting',
    );

    const stopped = await client(['--host', url, 'stop', '-t', '1', 'far']);
    expect(stopped).toMatchObject({ exitCode: 0, stdout: 'far' });
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
    const removed = await client(['--host', url, 'rm', 'far']);
    expect(removed.exitCode).toBe(0);
    expect(fs.existsSync(path.join(remote.root, 'containers', id))).toBe(false);
  });

  it("lists the remote host's images, not this machine's", async () => {
    const images = await client(['--host', url, 'images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(images.stderr).toBe('');
    expect(images.exitCode).toBe(0);
    expect(images.stdout.trim().split('\n')).toContain('demo:latest');
    // This machine's own root has no image at all.
    expect((await client(['images', '-q'])).stdout.trim()).toBe('');
  });

  it("shows the remote host's image trees, image details, volumes and networks, and removes its images", async () => {
    // What the remote root holds, read there directly: the commands over ssh must say the same.
    const direct = (args: readonly string[]) => remote.gantry(args);
    expect((await direct(['volume', 'create', 'far-volume'])).exitCode).toBe(0);
    expect((await direct(['tag', 'demo', 'demo:spare'])).exitCode).toBe(0);

    const tree = await client(['--host', url, 'image', 'tree', '--json', 'demo']);
    expect(tree).toMatchObject({ exitCode: 0, stderr: '' });
    expect(JSON.parse(tree.stdout)).toEqual(
      JSON.parse((await direct(['image', 'tree', '--json', 'demo'])).stdout),
    );
    const rendered = await client(['--host', url, 'image', 'tree', '--depth', '1', 'demo']);
    expect(rendered.stdout).toBe((await direct(['image', 'tree', '--depth', '1', 'demo'])).stdout.trimEnd());

    const id = (await direct(['image', 'inspect', '--format', '{{.Id}}', 'demo'])).stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const inspected = await client(['--host', url, 'image', 'inspect', '--format', '{{.Id}}', 'demo']);
    expect(inspected).toMatchObject({ exitCode: 0, stdout: id });

    const volumes = await client([
      '--host',
      url,
      'volume',
      'ls',
      '--format',
      '{{.Name}} {{.Links}} {{.Mountpoint}}',
    ]);
    expect(volumes.exitCode).toBe(0);
    expect(volumes.stdout.split('\n')).toContain(
      `far-volume 0 ${path.join(remote.root, 'volumes', 'far-volume', '_data')}`,
    );
    expect(
      (await client(['--host', url, 'volume', 'ls', '-q', '--filter', 'name=nothing-such'])).stdout,
    ).toBe('');
    expect((await client(['volume', 'ls', '-q'])).stdout.trim()).toBe('');

    const networks = await client(['--host', url, 'network', 'ls', '--format', '{{.ID}} {{.Name}}']);
    expect(networks.exitCode).toBe(0);
    expect(networks.stdout).toBe(
      (await direct(['network', 'ls', '--format', '{{.ID}} {{.Name}}'])).stdout.trimEnd(),
    );
    expect(networks.stdout.trim()).not.toBe('');

    // rmi takes the name off in the remote root; this machine's root never had it.
    const removed = await client(['--host', url, 'rmi', 'demo:spare']);
    expect(removed).toMatchObject({ exitCode: 0, stdout: 'Untagged: demo:spare' });
    expect(
      (await direct(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n'),
    ).not.toContain('demo:spare');
    const missing = await client(['--host', url, 'image', 'rm', 'demo:spare']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('demo:spare');
    expect(missing.stderr).toContain(`(on ${url})`);
    const notThere = await client(['--host', url, 'image', 'tree', 'no-such-image']);
    expect(notThere.exitCode).toBe(1);
    expect(notThere.stderr).toContain(`(on ${url})`);
    expect((await direct(['volume', 'rm', 'far-volume'])).exitCode).toBe(0);
  });

  it('pushes and pulls on the remote host, with a registry only that host reaches (a namespace of the test)', async (context) => {
    skipIf(context, needsCommand('docker-registry'));
    const netns = await createTestNetns('pull');
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('pull')}-`));
    let registry: Registry | undefined;
    let inside: TestSshd | undefined;
    try {
      registry = await startRegistry(path.join(work, 'registry'), { netns });
      // A second server for the same remote root, in the namespace: its sessions reach the registry.
      inside = await startSshd({ ...remote.env, GANTRY_DEFAULT_NETWORK: 'none' }, { netns });
      const far = inside.url(GANTRY);
      const name = `${registry.host}/demo:pulled`;
      const inNamespace = async (args: readonly string[]) =>
        client(args, { ...inside!.clientEnv, XDG_RUNTIME_DIR: '' });
      const logged = () => fs.readFileSync(path.join(work, 'registry', 'registry.log'), 'utf8');
      // push runs whole on the host: the remote root's image goes to the registry it reaches.
      const pushed = await inNamespace(['--host', far, 'push', 'demo', name]);
      expect(pushed.stderr).toBe('');
      expect(pushed.exitCode).toBe(0);
      expect(logged()).toMatch(/"PUT \/v2\/demo\/manifests\/pulled/);
      expect(fs.existsSync(path.join(localRoot, 'images'))).toBe(false);
      const loggedBefore = logged().length;

      const pulled = await inNamespace(['--host', far, 'pull', name]);
      expect(pulled.stderr).toBe('');
      expect(pulled.exitCode).toBe(0);
      expect(pulled.stdout).toContain(`Status: Downloaded newer image for ${name}`);
      // Stored in the remote root, with the same image ID as the image it was pushed from.
      const ids = async (reference: string) =>
        (await remote.gantry(['image', 'inspect', '--format', '{{.Id}}', reference])).stdout.trim();
      expect(await ids(name)).toBe(await ids('demo'));
      // The registry served it (to the remote service: nothing else in the namespace asks).
      expect(logged().slice(loggedBefore)).toMatch(/"GET \/v2\/demo\/manifests\//);
      const again = await inNamespace(['--host', far, 'pull', '--json', name]);
      expect(again.exitCode).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ Id: await ids('demo'), Name: name });
      const local = await inNamespace(['--host', far, 'pull', '--authfile', '/etc/hostname', name]);
      expect(local.exitCode).not.toBe(0);
      expect(local.stderr).toContain('--authfile names a file on this machine');
      const unreachable = await inNamespace(['--host', far, 'pull', '127.0.0.1:1/demo:none']);
      expect(unreachable.exitCode).not.toBe(0);
      expect(unreachable.stderr).toContain(`on ${far}`);
      expect((await remote.gantry(['rmi', name])).exitCode).toBe(0);
    } finally {
      await inside?.stop();
      await registry?.stop();
      await deleteTestNetns(netns);
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('takes the host from GANTRY_HOST', async () => {
    const created = await client(['create', '--name', 'by-env', 'demo', 'true'], { GANTRY_HOST: url });
    expect(created.exitCode).toBe(0);
    const id = created.stdout.trim();
    expect(fs.existsSync(path.join(remote.root, 'containers', id))).toBe(true);
    expect((await client(['rm', 'by-env'], { GANTRY_HOST: url })).exitCode).toBe(0);
    expect(fs.existsSync(path.join(remote.root, 'containers', id))).toBe(false);
  });

  it('says a remote error as the remote engine said it, with the local exit code', async () => {
    const missing = await client(['--host', url, 'stop', 'no-such-thing']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('no such container: no-such-thing');
    const inspect = await client(['--host', url, 'inspect', '--type', 'image', 'no-such-image']);
    expect(inspect.stderr).toContain('no such object: no-such-image');
  });

  it("names the host and gives ssh's own words when it cannot connect", async () => {
    // A port nothing listens on: the server is told to go, and its port is free afterwards.
    const closed = `ssh://root@127.0.0.1:1${GANTRY}`;
    const result = await client(['--host', closed, 'ps']);
    // docker's status for a failed ps.
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`host ${closed} is unreachable`);
    expect(result.stderr).toMatch(/Connection refused/);
  });

  it('says when the remote gantry is missing, too old, or speaks another protocol', async () => {
    const missing = await client(['--host', sshd.url('/nonexistent/gantry'), 'ps']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('gantry on ');
    expect(missing.stderr).toContain('was not found');

    const fakes = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('fakes')}-`));
    try {
      // What a gantry from before the service says to `system service --stdio`.
      const old = path.join(fakes, 'old-gantry');
      fs.writeFileSync(old, '#!/bin/sh\necho "gantry: \'system\' is not a gantry command." >&2\nexit 125\n', {
        mode: 0o755,
      });
      const tooOld = await client(['--host', sshd.url(old), 'ps']);
      expect(tooOld.exitCode).toBe(1);
      expect(tooOld.stderr).toContain('is too old');

      const future = path.join(fakes, 'future-gantry');
      fs.writeFileSync(
        future,
        '#!/bin/sh\necho \'{"hello":"gantry","protocol":9,"minProtocol":7,"gantry":"9.0.0"}\'\ncat >/dev/null\n',
        { mode: 0o755 },
      );
      const tooNew = await client(['--host', sshd.url(future), 'ps']);
      expect(tooNew.exitCode).toBe(1);
      expect(tooNew.stderr).toContain('is too new');
      expect(tooNew.stderr).toContain('protocol 7..9');
    } finally {
      fs.rmSync(fakes, { recursive: true, force: true });
    }
  });

  it('refuses a command that does not work on a remote host, without touching this one', async () => {
    const manifest = path.join(localRoot, 'pod.yaml');
    fs.writeFileSync(manifest, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: nope\n');
    const result = await client(['--host', url, 'kube', 'play', manifest]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain(`'kube play' does not work on a remote host (--host ${url})`);
    expect(fs.existsSync(path.join(localRoot, 'pods'))).toBe(false);
    const build = await client(['--host', url, 'build', '-t', 'nope', localRoot]);
    expect(build.exitCode).toBe(125);
    expect(build.stderr).toContain(`'build' does not work on a remote host (--host ${url})`);
    expect(fs.existsSync(path.join(localRoot, 'images'))).toBe(false);
  });

  it('rejects an address that is not ssh://', async () => {
    const result = await client(['--host', 'tcp://127.0.0.1:2375', 'ps']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('only ssh:// addresses are served');
  });

  it('keeps named connections (0600) and uses them by name and as the default', async () => {
    const file = path.join(localRoot, 'config', 'gantry', 'connections.json');
    expect((await client(['connection', 'add', 'far', url])).exitCode).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const listed = JSON.parse((await client(['connection', 'ls', '--format', 'json'])).stdout) as unknown[];
    expect(listed).toEqual([{ Name: 'far', URI: url, Identity: '', Default: false }]);

    const created = await client(['--host', 'far', 'create', '--name', 'named', 'demo', 'true']);
    expect(created.exitCode).toBe(0);
    const id = created.stdout.trim();
    expect(fs.existsSync(path.join(remote.root, 'containers', id))).toBe(true);

    // The default connection serves commands given no host; "local" brings this machine back.
    expect((await client(['connection', 'default', 'far'])).exitCode).toBe(0);
    expect((await client(['ps', '-aq', '--no-trunc'])).stdout.split('\n')).toContain(id);
    expect((await client(['connection', 'default', 'local'])).exitCode).toBe(0);
    expect((await client(['ps', '-aq'])).stdout.trim()).toBe('');

    expect((await client(['--host', 'far', 'rm', 'named'])).exitCode).toBe(0);
    expect(fs.existsSync(path.join(remote.root, 'containers', id))).toBe(false);
    expect((await client(['connection', 'rm', 'far'])).exitCode).toBe(0);
    const gone = await client(['--host', 'far', 'ps']);
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toContain('no such connection: far');
    const bad = await client(['connection', 'add', '-x', url]);
    expect(bad.exitCode).not.toBe(0);
    const badName = await client(['connection', 'add', 'a/b', url]);
    expect(badName.stderr).toContain('invalid connection name "a/b"');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ connections: {} });
  });

  it('shares one ssh connection per host between commands, its socket in a private directory', async () => {
    // A runtime directory of this test's own: no master of the earlier tests is in it.
    const runtime = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('run')}-`));
    const env = { XDG_RUNTIME_DIR: runtime };
    const directory = path.join(runtime, 'gantry', 'ssh');
    const [sshFile, ...sshWords] = sshd.clientEnv.GANTRY_SSH_COMMAND!.split(/\s+/);
    const control = (operation: string) =>
      execa(
        sshFile!,
        [
          ...sshWords,
          '-o',
          `ControlPath=${path.join(directory, '%C')}`,
          '-O',
          operation,
          '-p',
          String(sshd.port),
          'root@127.0.0.1',
        ],
        { reject: false },
      );
    /** Logins the server accepted: one per ssh connection (sessions on it log none). */
    const logins = () => sshd.log().split('Accepted publickey for root').length - 1;
    try {
      const before = logins();
      const first = await client(['--host', url, 'create', '--name', 'shared', 'demo', 'true'], env);
      expect(first).toMatchObject({ exitCode: 0, stderr: '' });
      await waitFor(() => (logins() > before ? true : undefined), 60_000, 'the first command to log in');
      expect(logins()).toBe(before + 1);
      expect(fs.statSync(directory).mode & 0o777).toBe(0o700);

      // The master the first command left runs, and the second command goes through it.
      const check = await control('check');
      expect(check.exitCode).toBe(0);
      const master = Number(/Master running \(pid=(\d+)\)/.exec(check.stderr)?.[1]);
      expect(fs.existsSync(`/proc/${master}`)).toBe(true);
      const second = await client(['--host', url, 'ps', '-a', '--format', '{{.Names}}'], env);
      expect(second.exitCode).toBe(0);
      expect(second.stdout.split('\n')).toContain('shared');
      const third = await client(['--host', url, 'rm', 'shared'], env);
      expect(third.exitCode).toBe(0);
      // Neither logged in again: they were sessions on the first connection.
      expect(logins()).toBe(before + 1);
      expect((await control('check')).stderr).toContain(`pid=${master}`);
    } finally {
      await control('exit');
      fs.rmSync(runtime, { recursive: true, force: true });
    }
  });

  /** The gantry service processes serving the remote root (the sessions' own, on this kernel). */
  const services = (): number[] =>
    fs
      .readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
          return (
            cmdline.includes('system\0service\0--stdio') && environ.includes(`GANTRY_ROOT=${remote.root}\0`)
          );
        } catch {
          return false;
        }
      })
      .map(Number);

  it('streams events and stats, and execs with pipes and a pty, on the remote host', async () => {
    const id = (
      await client(['--host', url, 'run', '-d', '--name', 'streams', 'demo', 'sleep', '86400'])
    ).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    // stats: the pids the remote container's cgroup counts, as the kernel counts them.
    const stats = await client([
      '--host',
      url,
      'stats',
      '--no-stream',
      '--format',
      '{{.Name}} {{.PIDs}}',
      'streams',
    ]);
    expect(stats.exitCode).toBe(0);
    const pidsFile = fs
      .readFileSync(
        `/proc/${JSON.parse((await client(['--host', url, 'inspect', 'streams'])).stdout)[0].State.Pid}/cgroup`,
        'utf8',
      )
      .split('\n')
      .find((line) => /:pids:/.test(line))!
      .split(':')[2]!;
    const current = fs
      .readFileSync(path.join('/sys/fs/cgroup/pids', pidsFile, 'pids.current'), 'utf8')
      .trim();
    expect(stats.stdout.trim()).toBe(`streams ${current}`);

    // events: a container created on the remote host after the stream began is reported.
    const events = execa(GANTRY, ['--host', url, 'events', '--json'], {
      env: {
        ...sshd.clientEnv,
        GANTRY_ROOT: localRoot,
        GANTRY_HOST: '',
        XDG_CONFIG_HOME: path.join(localRoot, 'config'),
      },
      reject: false,
      buffer: false,
      stdin: 'ignore',
    });
    let seen = '';
    events.stdout!.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    let attempt = 0;
    await waitFor(
      async () => {
        attempt += 1;
        await client(['--host', url, 'create', '--name', `event-${attempt}`, 'demo', 'true']);
        return seen.includes('"action":"create"') || undefined;
      },
      120_000,
      'a create event from the remote host',
    );
    const created = seen
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { action: string; name: string });
    expect(created.some((event) => event.action === 'create' && /^event-\d+$/.test(event.name))).toBe(true);
    events.kill('SIGINT');
    expect((await events).exitCode).toBe(0);

    // exec with piped input and the process's exit status.
    const piped = await execa(GANTRY, ['--host', url, 'exec', '-i', 'streams', 'sh', '-c', 'cat; exit 3'], {
      env: { ...sshd.clientEnv, GANTRY_ROOT: localRoot, GANTRY_HOST: '' },
      input: 'through the pipe\n',
      reject: false,
    });
    expect(piped.stdout).toBe('through the pipe');
    expect(piped.exitCode).toBe(3);

    // exec -it under a terminal (script(1) gives the client one): the process has a pty there.
    const shell = await execa(
      'script',
      ['-qec', `${GANTRY} --host ${url} exec -it streams sh -c 'tty; stty size; exit 5'`, '/dev/null'],
      {
        env: { ...sshd.clientEnv, GANTRY_ROOT: localRoot, GANTRY_HOST: '', COLUMNS: '91', LINES: '27' },
        reject: false,
      },
    );
    expect(shell.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(shell.exitCode).toBe(5);
  });

  it('passes a resize of the terminal to the remote pty: the process sees the new size (tmux)', async (context) => {
    skipIf(context, needsCommand('tmux'));
    const run = await client(['--host', url, 'run', '-d', '--name', 'sized', 'demo', 'sleep', '86400']);
    expect(run.exitCode).toBe(0);
    // The process prints its terminal's size at the start and at every SIGWINCH its pty sends.
    const script = "trap 'echo SIZE:$(stty size)' WINCH; echo START:$(stty size); while :; do sleep 1; done";
    const terminal = startTmux([GANTRY, '--host', url, 'exec', '-it', 'sized', 'sh', '-c', script], {
      env: {
        ...sshd.clientEnv,
        GANTRY_ROOT: localRoot,
        GANTRY_HOST: '',
        XDG_CONFIG_HOME: path.join(localRoot, 'config'),
      },
      columns: 100,
      rows: 30,
      label: 'resize',
    });
    const paneSize = () =>
      execaSync('tmux', [
        '-L',
        terminal.socket,
        'display-message',
        '-p',
        '-t',
        'main',
        '#{pane_height} #{pane_width}',
      ]).stdout.trim();
    try {
      const before = paneSize();
      await terminal.waitFor(`START:${before}`, 120_000, `the remote pty's first size (${before})`);
      terminal.resize(120, 41);
      const after = paneSize();
      expect(after).not.toBe(before);
      await terminal.waitFor(`SIZE:${after}`, 120_000, `the remote pty's size after the resize (${after})`);
      // Ctrl-C is a key on a terminal: it reaches the remote pty and ends the process there.
      terminal.send('C-c');
      await terminal.waitFor(/GANTRY_EXIT=\d+/, 120_000, 'the exec to end');
    } finally {
      terminal.kill();
      await client(['--host', url, 'rm', '-f', 'sized']);
    }
  });

  // Last: the server is gone afterwards.
  it('fails a follow whose server is killed, naming the host, and the service exits by itself', async () => {
    const run = await client([
      '--host',
      url,
      'run',
      '-d',
      '--name',
      'ticker',
      'demo',
      'sh',
      '-c',
      'while :; do echo tick; sleep 0.2; done',
    ]);
    expect(run.exitCode).toBe(0);
    const follow = execa(GANTRY, ['--host', url, 'logs', '-f', 'ticker'], {
      env: { ...sshd.clientEnv, GANTRY_ROOT: localRoot, GANTRY_HOST: '' },
      reject: false,
      buffer: false,
      stdin: 'ignore',
    });
    let out = '';
    let err = '';
    follow.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    follow.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    await waitFor(
      () => (out.split('tick').length > 3 ? true : undefined),
      60_000,
      'ticks through the follow',
    );
    const serving = services();
    expect(serving.length).toBeGreaterThan(0);
    sshd.kill();
    const ended = await follow;
    expect(ended.exitCode).toBe(1);
    expect(err).toContain(`host ${url} is unreachable: the connection was lost`);
    // No resident process: the service saw its session end and exited.
    await waitFor(
      () => (serving.every((pid) => !fs.existsSync(`/proc/${pid}`)) ? true : undefined),
      60_000,
      'the service to exit',
    );
  });
});
