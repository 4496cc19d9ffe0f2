/**
 * `gantry --host ssh://... cp` both ways, and `run` without -d / `start -a` there, through a real
 * OpenSSH server on 127.0.0.1 whose sessions run this checkout's gantry against a second state root (the "remote" host): files and
 * directories by docker's rules, tar streams on stdin and stdout, paths resolved inside the
 * container's root on the remote side (a symlink there never reaches the host's files), and a
 * 200 MiB file that neither side holds in memory (peak RSS as the kernel counts it, by wait4);
 * an attached run's output, input, exit code, --rm and pty (tmux) as a local run's.
 */
import { execa, execaSync } from 'execa';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { GANTRY, testName, waitFor, type TestEngine } from '../../support/engine.js';
import { describeUnless, needsCommand, needsFile, needsRoot, skipIf } from '../../support/skip.js';
import { startTmux } from '../../../scripts/lib/tmux.mjs';
import { remoteHostForSuite } from '../../support/remote-host.js';
import { needsSshd } from '../../support/sshd.js';

const TIME = '/usr/bin/time';
const MiB = 1 << 20;

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describeUnless(
  [needsRoot(), needsSshd(), needsFile([TIME], 'GNU time', 'time')],
  'gantry --host ssh:// cp, run and start -a',
  () => {
    /** The remote service's peak RSS (KiB), one line per session, written by GNU time there. */
    const rssOf = (work: string) => path.join(work, 'service-rss');
    // The remote gantry, as the address names it: this checkout's, under GNU time.
    const host = remoteHostForSuite('remote-cp', {
      gantryPath: (work) => {
        const wrapper = path.join(work, 'gantry-timed');
        fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${TIME} -a -o ${rssOf(work)} -f %M ${GANTRY} "$@"\n`, {
          mode: 0o755,
        });
        return wrapper;
      },
    });
    let remote: TestEngine;
    let work: string;
    let localRoot: string;
    let url: string;
    let serviceRss: string;

    beforeAll(async () => {
      ({ remote, work, localRoot, url } = host);
      serviceRss = rssOf(work);
      const run = await client([
        '--host',
        url,
        'run',
        '-d',
        '--name',
        'c1',
        'demo',
        'sh',
        '-c',
        'mkdir -p /srv/tree/sub /srv/empty && echo one > /srv/tree/a && echo two > /srv/tree/sub/b && ln -s ../a /srv/tree/sub/up && ln -s /etc /srv/abs && echo far > /srv/file && exec sleep 86400',
      ]);
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      await waitFor(
        async () =>
          (await remote.gantry(['exec', 'c1', 'cat', '/srv/file'])).stdout.trim() === 'far' || undefined,
        60_000,
        "the container's files",
      );
    });

    /** `gantry ARGS` on this machine (its own empty root) in `cwd`, with GNU time's peak RSS. */
    async function client(
      args: readonly string[],
      options: { cwd?: string; input?: Buffer | string; inputFile?: string; stdoutFile?: string } = {},
    ) {
      const rss = path.join(work ?? os.tmpdir(), `client-rss-${process.hrtime.bigint()}`);
      const result = await execa(TIME, ['-o', rss, '-f', '%M', GANTRY, ...args], {
        env: host.clientEnv(),
        cwd: options.cwd ?? work,
        reject: false,
        encoding: 'buffer',
        stripFinalNewline: false,
        ...(options.input !== undefined
          ? { input: options.input }
          : options.inputFile
            ? { inputFile: options.inputFile }
            : { stdin: 'ignore' as const }),
        ...(options.stdoutFile ? { stdout: { file: options.stdoutFile } } : {}),
      });
      const peak = Number(fs.readFileSync(rss, 'utf8').trim().split('\n').pop());
      return {
        stdout: Buffer.from(result.stdout ?? []),
        stderr: Buffer.from(result.stderr ?? []).toString(),
        exitCode: result.exitCode ?? 128,
        peakKiB: peak,
      };
    }

    const inContainer = async (...command: string[]) =>
      (await remote.gantry(['exec', 'c1', ...command])).stdout.trim();

    it('copies a file out of a remote container, to a directory and to a new name', async () => {
      const out = fs.mkdtempSync(path.join(work, 'out-'));
      const copied = await client(['--host', url, 'cp', 'c1:/srv/file', '.'], { cwd: out });
      expect(copied.stderr).toBe('');
      expect(copied.exitCode).toBe(0);
      expect(fs.readFileSync(path.join(out, 'file'), 'utf8')).toBe('far\n');
      const renamed = await client(['--host', url, 'cp', 'c1:/srv/file', path.join(out, 'renamed')]);
      expect(renamed.exitCode).toBe(0);
      expect(fs.readFileSync(path.join(out, 'renamed'), 'utf8')).toBe('far\n');
      // Nothing of it went to this machine's own state root.
      expect(fs.existsSync(path.join(localRoot, 'containers'))).toBe(false);
    });

    it('copies a directory out by docker rules: into a directory, to a new name, and its content only', async () => {
      const out = fs.mkdtempSync(path.join(work, 'tree-'));
      expect((await client(['--host', url, 'cp', 'c1:/srv/tree', out])).exitCode).toBe(0);
      expect(fs.readFileSync(path.join(out, 'tree', 'sub', 'b'), 'utf8')).toBe('two\n');
      expect(fs.readlinkSync(path.join(out, 'tree', 'sub', 'up'))).toBe('../a');
      expect((await client(['--host', url, 'cp', 'c1:/srv/tree', path.join(out, 'fresh')])).exitCode).toBe(0);
      expect(fs.readFileSync(path.join(out, 'fresh', 'a'), 'utf8')).toBe('one\n');
      fs.mkdirSync(path.join(out, 'contents'));
      expect(
        (await client(['--host', url, 'cp', 'c1:/srv/tree/.', path.join(out, 'contents')])).exitCode,
      ).toBe(0);
      expect(fs.readdirSync(path.join(out, 'contents')).sort()).toEqual(['a', 'sub']);
      const onFile = await client(['--host', url, 'cp', 'c1:/srv/tree', path.join(out, 'tree', 'a')]);
      expect(onFile.exitCode).toBe(1);
      expect(onFile.stderr).toContain('cannot copy a directory to a file');
    });

    it('copies a file and a directory into a remote container', async () => {
      const source = fs.mkdtempSync(path.join(work, 'in-'));
      fs.writeFileSync(path.join(source, 'f'), 'from here\n');
      fs.mkdirSync(path.join(source, 'dir', 'deep'), { recursive: true });
      fs.writeFileSync(path.join(source, 'dir', 'deep', 'g'), 'deep\n');
      const file = await client(['--host', url, 'cp', './f', 'c1:/tmp/'], { cwd: source });
      expect(file.stderr).toBe('');
      expect(file.exitCode).toBe(0);
      expect(await inContainer('cat', '/tmp/f')).toBe('from here');
      expect((await client(['--host', url, 'cp', './dir', 'c1:/tmp/copied'], { cwd: source })).exitCode).toBe(
        0,
      );
      expect(await inContainer('cat', '/tmp/copied/deep/g')).toBe('deep');
      expect(
        (await client(['--host', url, 'cp', './dir/.', 'c1:/srv/empty'], { cwd: source })).exitCode,
      ).toBe(0);
      expect(await inContainer('ls', '/srv/empty')).toBe('deep');
      // Nothing of it landed in the remote host's own /tmp: the path was the container's.
      expect(fs.existsSync('/tmp/copied')).toBe(false);
    });

    it('writes and reads tar streams with "-", as docker cp does', async () => {
      const archive = path.join(work, 'tree.tar');
      const out = await client(['--host', url, 'cp', 'c1:/srv/tree', '-'], { stdoutFile: archive });
      expect(out.exitCode).toBe(0);
      const listed = await execa('tar', ['-tf', archive]);
      expect(listed.stdout.split('\n').sort()).toEqual([
        'tree/',
        'tree/a',
        'tree/sub/',
        'tree/sub/b',
        'tree/sub/up',
      ]);
      const into = await client(['--host', url, 'cp', '-', 'c1:/srv/empty'], { inputFile: archive });
      expect(into.stderr).toBe('');
      expect(into.exitCode).toBe(0);
      expect(await inContainer('cat', '/srv/empty/tree/sub/b')).toBe('two');
    });

    it('resolves paths inside the container on the remote side: a link to a host path reaches nothing of the host', async () => {
      const hostOnly = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('host-only')}-`));
      try {
        fs.writeFileSync(path.join(hostOnly, 'secret'), 'host secret\n');
        // In the container, a link to the host's directory by its absolute name.
        await remote.gantry(['exec', 'c1', 'ln', '-s', hostOnly, '/srv/to-host']);
        const out = fs.mkdtempSync(path.join(work, 'escape-'));
        const read = await client(['--host', url, 'cp', 'c1:/srv/to-host/secret', out]);
        expect(read.exitCode).toBe(1);
        expect(read.stderr).toContain('Could not find the file');
        expect(read.stderr, read.stderr).toContain(`(on ${url})`);
        expect(fs.readdirSync(out)).toEqual([]);
        // /srv/abs -> /etc is the container's /etc, not the host's.
        expect((await client(['--host', url, 'cp', 'c1:/srv/abs/hostname', out])).exitCode).toBe(0);
        expect(fs.readFileSync(path.join(out, 'hostname'), 'utf8')).toBe(
          `${await inContainer('cat', '/etc/hostname')}\n`,
        );
        fs.writeFileSync(path.join(out, 'planted'), 'planted\n');
        const write = await client(['--host', url, 'cp', path.join(out, 'planted'), 'c1:/srv/to-host/']);
        expect(write.exitCode).toBe(1);
        expect(fs.readdirSync(hostOnly)).toEqual(['secret']);
      } finally {
        fs.rmSync(hostOnly, { recursive: true, force: true });
      }
    });

    it('says which container and host when the container is missing', async () => {
      const result = await client(['--host', url, 'cp', 'nothing-such:/etc/hostname', work]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('nothing-such');
      expect(result.stderr).toContain(`(on ${url})`);
    });

    it('copies 200 MiB both ways without holding it in memory on either side', async () => {
      const big = path.join(work, 'big');
      const handle = fs.openSync(big, 'w');
      const block = Buffer.alloc(MiB);
      for (let index = 0; index < 200; index += 1) {
        block.fill(index);
        block.writeUInt32BE((index * 2654435761) >>> 0, 0);
        fs.writeSync(handle, block);
      }
      fs.closeSync(handle);
      const small = path.join(work, 'small');
      fs.writeFileSync(small, 'small\n');
      const peakOfLastSession = () => Number(fs.readFileSync(serviceRss, 'utf8').trim().split('\n').pop());

      // The same commands with a small file: what a cp costs with nothing to hold.
      const smallIn = await client(['--host', url, 'cp', small, 'c1:/tmp/small']);
      expect(smallIn.exitCode).toBe(0);
      const baseIn = { client: smallIn.peakKiB, service: peakOfLastSession() };
      const smallOut = await client(['--host', url, 'cp', 'c1:/tmp/small', path.join(work, 'small-back')]);
      expect(smallOut.exitCode).toBe(0);
      const baseOut = { client: smallOut.peakKiB, service: peakOfLastSession() };

      const sent = await client(['--host', url, 'cp', big, 'c1:/tmp/big']);
      expect(sent.stderr).toBe('');
      expect(sent.exitCode).toBe(0);
      const sentService = peakOfLastSession();
      const digest = await sha256(big);
      expect(await inContainer('sha256sum', '/tmp/big')).toContain(digest);
      const back = path.join(work, 'big-back');
      const received = await client(['--host', url, 'cp', 'c1:/tmp/big', back]);
      expect(received.stderr).toBe('');
      expect(received.exitCode).toBe(0);
      const receivedService = peakOfLastSession();
      expect(await sha256(back)).toBe(digest);

      // Peak RSS as wait4 reports it (GNU time's %M, KiB): a 200 MiB file moves with less than half
      // of it above what the same command takes for a small file, on each side, each way.
      const limit = 100 * 1024;
      const measured = {
        sentClient: sent.peakKiB - baseIn.client,
        sentService: sentService - baseIn.service,
        receivedClient: received.peakKiB - baseOut.client,
        receivedService: receivedService - baseOut.service,
      };
      console.log(`cp 200 MiB over ssh, peak RSS above a small copy's (KiB): ${JSON.stringify(measured)}`);
      expect(Object.entries(measured).filter(([, growth]) => growth >= limit)).toEqual([]);
    });

    const clientEnv = () => host.clientEnv();
    const containerIds = () => fs.readdirSync(path.join(remote.root, 'containers')).sort();

    it("runs attached on the remote host: its output here, its exit code this command's, --rm there", async () => {
      const before = containerIds();
      const run = await client([
        '--host',
        url,
        'run',
        '--rm',
        'demo',
        'sh',
        '-c',
        'echo to stdout; echo to stderr >&2; exit 3',
      ]);
      expect(run.stdout.toString()).toBe('to stdout\n');
      expect(run.stderr).toBe('to stderr\n');
      expect(run.exitCode).toBe(3);
      // --rm: the remote root holds no more containers than before.
      expect(containerIds()).toEqual(before);
    });

    it('passes stdin with -i, and records the end of a run without --rm on the remote host', async () => {
      const run = await client(
        ['--host', url, 'run', '-i', '--name', 'piped', 'demo', 'sh', '-c', 'cat; exit 4'],
        {
          input: 'through ssh\n',
        },
      );
      expect(run.stderr).toBe('');
      expect(run.stdout.toString()).toBe('through ssh\n');
      expect(run.exitCode).toBe(4);
      const state = await remote.gantry([
        'inspect',
        '--format',
        '{{.State.Status}} {{.State.ExitCode}}',
        'piped',
      ]);
      expect(state.stdout.trim()).toBe('exited 4');
      expect((await remote.gantry(['rm', 'piped'])).exitCode).toBe(0);
    });

    it('creates, then starts attached with start -a, on the remote host', async () => {
      const created = await client([
        '--host',
        url,
        'create',
        '--name',
        'later',
        'demo',
        'sh',
        '-c',
        'echo started; exit 5',
      ]);
      expect(created.exitCode).toBe(0);
      const started = await client(['--host', url, 'start', '-a', 'later']);
      expect(started.stderr).toBe('');
      expect(started.stdout.toString()).toBe('started\n');
      expect(started.exitCode).toBe(5);
      const again = await client(['--host', url, 'start', '-a', 'later']);
      expect(again.exitCode).toBe(5);
      expect((await remote.gantry(['rm', 'later'])).exitCode).toBe(0);
    });

    it('attaches to a running remote container: its output, this stdin, its exit code', async () => {
      const run = await client([
        '--host',
        url,
        'run',
        '-d',
        '-i',
        '--name',
        'listener',
        'demo',
        'sh',
        '-c',
        'read line; echo got $line; exit 6',
      ]);
      expect(run.exitCode).toBe(0);
      const attached = await client(['--host', url, 'attach', 'listener'], { input: 'hello\n' });
      expect(attached.stderr).toBe('');
      expect(attached.stdout.toString()).toBe('got hello\n');
      expect(attached.exitCode).toBe(6);
      const stopped = await client(['--host', url, 'attach', 'listener']);
      expect(stopped.exitCode).not.toBe(0);
      expect(stopped.stderr).toContain('you cannot attach to a stopped container');
      expect(stopped.stderr).toContain(`(on ${url})`);
      expect((await remote.gantry(['rm', 'listener'])).exitCode).toBe(0);
    });

    it('detaches from run -it and attach with Ctrl-P Ctrl-Q: exit 0, the remote container runs on, attach reaches it again (tmux)', async (context) => {
      skipIf(context, needsCommand('tmux'));
      const name = 'detachable';
      // Lines typed before the client's terminal is raw still arrive whole: "quit" ends it.
      const script =
        'echo READY; while read line; do [ "$line" = quit ] && break; echo GOT:$line; done; echo LAST; exit 9';
      /** One command against the remote host in a terminal (tmux) of its own. */
      const session = (label: string, args: string[]) =>
        startTmux([GANTRY, '--host', url, ...args], { env: clientEnv(), columns: 100, rows: 30, label });
      const detach = async (terminal: ReturnType<typeof startTmux>) => {
        terminal.send('C-p');
        terminal.send('C-q');
        return terminal.waitFor(/GANTRY_EXIT=\d+/, 120_000, 'the command to end by the detach');
      };
      const alive = async () => {
        const pid = Number(
          (await remote.gantry(['inspect', '--format', '{{.State.Pid}}', name])).stdout.trim(),
        );
        expect(pid).toBeGreaterThan(0);
        // The container's process itself, on the remote host (this machine): signal 0 reaches it.
        expect(() => process.kill(pid, 0)).not.toThrow();
        const listed = await client([
          '--host',
          url,
          'ps',
          '--filter',
          `name=${name}`,
          '--format',
          '{{.Status}}',
        ]);
        expect(listed.exitCode).toBe(0);
        expect(listed.stdout.toString()).toMatch(/^Up /);
      };

      const run = session('detach-run', ['run', '-it', '--rm', '--name', name, 'demo', 'sh', '-c', script]);
      try {
        await run.waitFor('READY', 120_000, 'the remote container to run');
        run.type('one');
        run.send('Enter');
        await run.waitFor('GOT:one', 120_000, 'the input to reach the container');
        const screen = await detach(run);
        expect(screen).toContain('GANTRY_EXIT=0');
        expect(screen).toContain('read escape sequence');
        // Nothing else after the container's own output: no error, no exit of the container.
        const after = screen.slice(screen.indexOf('GOT:one') + 'GOT:one'.length);
        expect(after.replace(/\s+/g, ' ').trim()).toBe('read escape sequence GANTRY_EXIT=0');
      } finally {
        run.kill();
      }
      await alive();

      const again = session('detach-attach', ['attach', name]);
      try {
        again.type('two');
        again.send('Enter');
        await again.waitFor('GOT:two', 120_000, 'attach to reach the container again');
        expect(await detach(again)).toContain('GANTRY_EXIT=0');
      } finally {
        again.kill();
      }
      await alive();

      // Its end after both detaches is recorded on its host, and --rm removes it there.
      const last = session('detach-end', ['attach', name]);
      try {
        last.type('quit');
        last.send('Enter');
        const screen = await last.waitFor(/GANTRY_EXIT=\d+/, 120_000, 'the container to end');
        expect(screen).toContain('LAST');
        expect(screen).toContain('GANTRY_EXIT=9');
      } finally {
        last.kill();
      }
      await waitFor(
        async () => ((await remote.gantry(['inspect', name])).exitCode !== 0 ? true : undefined),
        60_000,
        'the --rm container to go on its host',
      );
    });

    it('passes a signal that reaches this command to the remote container', async () => {
      const child = execa(
        GANTRY,
        [
          '--host',
          url,
          'run',
          '--rm',
          'demo',
          'sh',
          '-c',
          "trap 'echo caught; exit 7' TERM; echo ready; while :; do sleep 1; done",
        ],
        { env: clientEnv(), reject: false, stdin: 'ignore' },
      );
      let seen = '';
      child.stdout!.on('data', (data: Buffer) => (seen += data.toString()));
      await waitFor(() => seen.includes('ready') || undefined, 120_000, 'the remote container to run');
      child.kill('SIGTERM');
      const result = await child;
      expect(seen).toContain('caught');
      expect(result.exitCode).toBe(7);
    });

    it("gives -it a pty on the remote host in this terminal's size, following a resize (tmux)", async (context) => {
      skipIf(context, needsCommand('tmux'));
      const before = containerIds();
      const script =
        "trap 'echo SIZE:$(stty size)' WINCH; echo START:$(stty size) $(tty); while :; do sleep 1; done";
      const terminal = startTmux([GANTRY, '--host', url, 'run', '-it', '--rm', 'demo', 'sh', '-c', script], {
        env: clientEnv(),
        columns: 100,
        rows: 30,
        label: 'run-it',
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
        const first = paneSize();
        await terminal.waitFor(
          new RegExp(`START:${first} /dev/pts/\\d+`),
          120_000,
          `the remote pty's first size (${first})`,
        );
        terminal.resize(120, 41);
        const after = paneSize();
        expect(after).not.toBe(first);
        await terminal.waitFor(`SIZE:${after}`, 120_000, `the remote pty's size after the resize (${after})`);
        // Ctrl-C is a key on the raw terminal: the remote pty turns it into SIGINT there.
        terminal.send('C-c');
        await terminal.waitFor(/GANTRY_EXIT=130/, 120_000, 'the run to end by its SIGINT');
      } finally {
        terminal.kill();
      }
      await waitFor(
        () => (containerIds().join() === before.join() ? true : undefined),
        60_000,
        'the --rm container to go',
      );
    });
  },
);
