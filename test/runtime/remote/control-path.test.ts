/**
 * The directory of the CLI's shared ssh connections (control-path.ts) and the ssh command line
 * that uses it: private (0700, ours, never through a symlink), short enough for a socket, and left
 * out when the user's own ssh command chooses multiplexing for itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controlArgs, controlDirectory } from '../../../source/runtime/remote/control-path.js';
import { parseSshUrl, sshCommand } from '../../../source/runtime/remote/ssh-url.js';

describe('controlDirectory', () => {
  let base: string;

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-control-'));
  });
  afterEach(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('makes a 0700 directory under $XDG_RUNTIME_DIR', () => {
    const runtime = path.join(base, 'run');
    fs.mkdirSync(runtime, { mode: 0o700 });
    const directory = controlDirectory({ root: path.join(base, 'root'), env: { XDG_RUNTIME_DIR: runtime } });
    expect(directory).toBe(path.join(runtime, 'gantry', 'ssh'));
    expect(fs.statSync(directory!).mode & 0o777).toBe(0o700);
    // The state root was not needed, so it was not made.
    expect(fs.existsSync(path.join(base, 'root'))).toBe(false);
  });

  it('falls back to the state root without a runtime directory', () => {
    const directory = controlDirectory({ root: path.join(base, 'root'), env: {} });
    expect(directory).toBe(path.join(base, 'root', 'ssh'));
    expect(fs.statSync(directory!).mode & 0o777).toBe(0o700);
  });

  it('closes a directory of ours that others could enter', () => {
    fs.mkdirSync(path.join(base, 'root', 'ssh'), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(base, 'root', 'ssh'), 0o755);
    expect(controlDirectory({ root: path.join(base, 'root'), env: {} })).toBe(path.join(base, 'root', 'ssh'));
    expect(fs.statSync(path.join(base, 'root', 'ssh')).mode & 0o777).toBe(0o700);
  });

  it('refuses a symlink planted where the directory goes, and does not follow it', () => {
    const elsewhere = path.join(base, 'elsewhere');
    fs.mkdirSync(elsewhere, { mode: 0o755 });
    fs.mkdirSync(path.join(base, 'root'));
    fs.symlinkSync(elsewhere, path.join(base, 'root', 'ssh'));
    expect(controlDirectory({ root: path.join(base, 'root'), env: {} })).toBeUndefined();
    // The target kept its mode: nothing was done through the link.
    expect(fs.statSync(elsewhere).mode & 0o777).toBe(0o755);
  });

  it('takes the next place when the runtime directory is unusable', () => {
    const runtimeFile = path.join(base, 'not-a-directory');
    fs.writeFileSync(runtimeFile, '');
    expect(controlDirectory({ root: path.join(base, 'root'), env: { XDG_RUNTIME_DIR: runtimeFile } })).toBe(
      path.join(base, 'root', 'ssh'),
    );
  });

  it('leaves sharing out when a socket path would be too long', () => {
    const deep = path.join(base, 'x'.repeat(60));
    expect(controlDirectory({ root: deep, env: {} })).toBeUndefined();
    expect(fs.existsSync(deep)).toBe(false);
  });

  it("keeps the user's own choice of multiplexing", () => {
    for (const command of ['ssh -o ControlMaster=no', 'ssh -oControlPath=/x/%C', 'ssh -S none', 'ssh -M']) {
      expect(controlDirectory({ root: path.join(base, 'root'), env: { GANTRY_SSH_COMMAND: command } })).toBe(
        undefined,
      );
    }
    // Other options of theirs do not count as a choice.
    expect(
      controlDirectory({
        root: path.join(base, 'root'),
        env: { GANTRY_SSH_COMMAND: 'ssh -F /etc/x -oServerAliveInterval=5' },
      }),
    ).toBe(path.join(base, 'root', 'ssh'));
  });
});

describe('sshCommand with a shared connection', () => {
  it('puts the control options before the host, and the remote command last', () => {
    const { file, args } = sshCommand(
      parseSshUrl('ssh://alice@example.test:2222/opt/gantry'),
      ['system', 'service', '--stdio'],
      {},
      controlArgs('/run/user/1000/gantry/ssh'),
    );
    expect(file).toBe('ssh');
    const end = args.indexOf('--');
    expect(args.slice(0, end)).toEqual(
      expect.arrayContaining([
        'ControlMaster=auto',
        'ControlPath=/run/user/1000/gantry/ssh/%C',
        'ControlPersist=30',
      ]),
    );
    expect(args.slice(end)).toEqual(['--', 'example.test', '/opt/gantry system service --stdio']);
  });
});
