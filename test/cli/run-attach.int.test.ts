/**
 * `run -a/--attach STDIN|STDOUT|STDERR` as docker's: only the named streams reach the caller (the
 * container's log keeps both), stdin only when attached with -i, inspect's Config.Attach* say
 * which, and a bad stream or `-a` with `-d` is refused with docker's words.
 */
import { expect, it } from 'vitest';
import { engineForSuite } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

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
});
