/**
 * `run -a/--attach STDIN|STDOUT|STDERR` as docker's: only the named streams reach the caller (the
 * container's log keeps both), stdin only when attached with -i, inspect's Config.Attach* say
 * which, and a bad stream or `-a` with `-d` is refused with docker's words; Ctrl-P Ctrl-Q detaches
 * from `run -it` and `attach` (tmux), and a later attach types into the same terminal.
 */
import { expect, it } from 'vitest';
import { startTmux } from '../../scripts/lib/tmux.mjs';
import { engineForSuite, GANTRY } from '../support/engine.js';
import { describeUnless, needsCommand, needsRoot, skipIf } from '../support/skip.js';

describeUnless(needsRoot(), 'gantry run --attach', () => {
  const engine = engineForSuite('run-attach');
  const both = ['sh', '-c', 'echo to-out; echo to-err >&2'];

  it('attaches only the streams named, and the log keeps the others', async () => {
    const out = await engine.gantry(['run', '--rm', '--network', 'none', '-a', 'stdout', 'demo', ...both]);
    expect(out).toEqual({ exitCode: 0, stdout: 'to-out\n', stderr: '' });

    const err = await engine.gantry([
      'run',
      '--name',
      'err-only',
      '--network',
      'none',
      '--attach',
      'STDERR',
      'demo',
      ...both,
    ]);
    expect(err).toEqual({ exitCode: 0, stdout: '', stderr: 'to-err\n' });
    // Not attached is not lost: the monitor logged both streams.
    const logs = await engine.gantry(['logs', 'err-only']);
    expect(logs.stdout).toBe('to-out\n');
    expect(logs.stderr).toBe('to-err\n');
    const attached = await engine.gantry([
      'inspect',
      '--format',
      '{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}}',
      'err-only',
    ]);
    expect(attached.stdout).toBe('false false true\n');

    const all = await engine.gantry([
      'run',
      '--rm',
      '--network',
      'none',
      '-a',
      'stdout',
      '-a',
      'stderr',
      'demo',
      ...both,
    ]);
    expect(all).toEqual({ exitCode: 0, stdout: 'to-out\n', stderr: 'to-err\n' });
  });

  it('passes input with -i -a stdin, and the exit status through', async () => {
    const piped = await engine.gantry(
      [
        'run',
        '--rm',
        '--network',
        'none',
        '-i',
        '-a',
        'stdin',
        '-a',
        'stdout',
        'demo',
        'sh',
        '-c',
        'cat; echo hidden >&2; exit 3',
      ],
      { input: 'through stdin\n' },
    );
    expect(piped).toEqual({ exitCode: 3, stdout: 'through stdin\n', stderr: '' });
  });

  it("refuses a stream docker does not know, and -a with -d, in docker's words", async () => {
    const bad = await engine.gantry(['run', '--rm', '-a', 'stdlog', 'demo', 'true']);
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toContain('valid streams are STDIN, STDOUT and STDERR');
    const detached = await engine.gantry(['run', '-d', '-a', 'stdout', 'demo', 'true']);
    expect(detached.exitCode).toBe(125);
    expect(detached.stderr).toContain('conflicting options: -a and -d');
    expect((await engine.gantry(['ps', '-aq', '--filter', 'status=created'])).stdout).toBe('');
  });

  it('detaches from run -it with Ctrl-P Ctrl-Q, and a later attach types into the same terminal (tmux)', async (context) => {
    skipIf(context, needsCommand('tmux'));
    const script =
      'echo READY; while read line; do [ "$line" = quit ] && break; echo GOT:$line; done; echo LAST; exit 9';
    const env = { ...engine.env, GANTRY_DEFAULT_NETWORK: 'none' };
    const session = (label: string, args: string[]) =>
      startTmux([GANTRY, ...args], { env, columns: 100, rows: 30, label });
    const run = session('detach-local', [
      'run',
      '-it',
      '--name',
      'detached-local',
      'demo',
      'sh',
      '-c',
      script,
    ]);
    try {
      await run.waitFor('READY', 120_000, 'the container to run');
      run.type('one');
      run.send('Enter');
      await run.waitFor('GOT:one', 120_000, 'the input to reach the container');
      run.send('C-p');
      run.send('C-q');
      const screen = await run.waitFor(/GANTRY_EXIT=\d+/, 120_000, 'the detach');
      // Neither key reached the container's terminal (no ^P echoed there).
      const after = screen.slice(screen.indexOf('GOT:one') + 'GOT:one'.length);
      expect(after.replace(/\s+/g, ' ').trim()).toBe('read escape sequence GANTRY_EXIT=0');
    } finally {
      run.kill();
    }
    const state = await engine.gantry(['inspect', '--format', '{{.State.Status}}', 'detached-local']);
    expect(state.stdout).toBe('running\n');
    // The first client went: the tty container's stdin stays open for the next.
    const again = session('attach-local', ['attach', 'detached-local']);
    try {
      again.type('two');
      again.send('Enter');
      await again.waitFor('GOT:two', 120_000, 'attach to type into the container again');
      again.type('quit');
      again.send('Enter');
      const screen = await again.waitFor(/GANTRY_EXIT=\d+/, 120_000, 'the container to end');
      expect(screen).toContain('LAST');
      expect(screen).toContain('GANTRY_EXIT=9');
    } finally {
      again.kill();
    }
    expect((await engine.gantry(['rm', 'detached-local'])).exitCode).toBe(0);
  });
});
