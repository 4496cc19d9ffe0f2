/**
 * `gantry generate systemd`: the unit's fields (as podman's generate systemd writes them), and
 * its ExecStart/ExecStop/PIDFile doing what systemd would have them do, run by hand on the real
 * kernel (no systemd boots here).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite, REPO } from '../../support/engine.js';
import { describeUnless, needsCommand, needsRoot, skipIf } from '../../support/skip.js';

/** A unit file as systemd reads it: section -> key -> values (keys may repeat). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      current = sections[header[1]!] = {};
      continue;
    }
    const equals = line.indexOf('=');
    if (!current || equals < 0) throw new Error(`not a unit line: ${line}`);
    (current[line.slice(0, equals)] ??= []).push(line.slice(equals + 1));
  }
  return sections;
}

/** The words of an Exec line (what the unit's writer quotes, systemd unquotes). */
function execWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    const word = match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2]!;
    words.push(word.replace(/%%/g, '%').replace(/\$\$/g, '$'));
  }
  return words;
}

function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describeUnless(needsRoot(), 'gantry generate systemd', () => {
  const engine = engineForSuite('unit');
  const inspect = async (name: string) =>
    (
      JSON.parse((await engine.gantry(['inspect', name])).stdout) as {
        Id: string;
        RestartCount: number;
        State: { Status: string; Pid: number };
      }[]
    )[0]!;

  it('writes a unit whose fields are podman’s, with the monitor as its PIDFile', async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'svc',
      '--restart',
      'always',
      'demo',
      'sleep',
      '1000',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const generated = await engine.gantry(['generate', 'systemd', '--name', 'svc']);
    expect(generated.exitCode, generated.stderr).toBe(0);
    expect(generated.stdout.split('\n')[0]).toBe('# container-svc.service');
    const unit = parseUnit(generated.stdout);
    expect(Object.keys(unit)).toEqual(['Unit', 'Service', 'Install']);
    expect(unit.Unit).toMatchObject({
      Description: ['gantry container-svc.service'],
      Wants: ['network-online.target'],
      After: ['network-online.target'],
      RequiresMountsFor: [engine.root],
    });
    expect(unit.Service).toMatchObject({
      Environment: ['GANTRY_SYSTEMD_UNIT=%n'],
      Restart: ['on-abnormal'],
      TimeoutStopSec: ['70'],
      Type: ['forking'],
      PIDFile: [path.join(engine.root, 'containers', id, 'monitor.pid')],
    });
    expect(unit.Install).toEqual({ WantedBy: ['default.target'] });
    const start = execWords(unit.Service!.ExecStart![0]!);
    expect(start.slice(0, 2)).toEqual([process.execPath, path.join(REPO, 'bin', 'gantry.js')]);
    expect(start.slice(2)).toEqual([
      '--root',
      engine.root,
      '--cgroup-parent',
      engine.cgroupParent,
      'start',
      'svc',
    ]);
    expect(execWords(unit.Service!.ExecStop![0]!).slice(-4)).toEqual(['stop', '-t', '10', 'svc']);
    // The PIDFile names the container's monitor, the process systemd would track.
    const pid = (await inspect('svc')).State.Pid;
    expect(fs.readFileSync(unit.Service!.PIDFile![0]!, 'utf8').trim()).toBe(String(parentOf(pid)));
    // By id unless --name; -t sets the stop timeout and TimeoutStopSec follows it.
    const byId = parseUnit((await engine.gantry(['generate', 'systemd', '-t', '3', 'svc'])).stdout);
    expect(execWords(byId.Service!.ExecStart![0]!).at(-1)).toBe(id);
    expect(byId.Service!.TimeoutStopSec).toEqual(['63']);
  });

  it('runs the unit’s ExecStart and ExecStop by hand: the container comes back, then stops for good', async () => {
    const unit = parseUnit((await engine.gantry(['generate', 'systemd', '--name', 'svc'])).stdout);
    const stop = await engine.gantry(['stop', '-t', '1', 'svc']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect((await inspect('svc')).State.Status).toBe('exited');
    // As after a reboot: systemd runs ExecStart (in the engine's network namespace here).
    const [file, ...args] = execWords(unit.Service!.ExecStart![0]!);
    const started = await engine.inNetns(file!, args);
    expect(started.exitCode, started.stderr).toBe(0);
    const running = await inspect('svc');
    expect(running.State.Status).toBe('running');
    expect(fs.readFileSync(unit.Service!.PIDFile![0]!, 'utf8').trim()).toBe(
      String(parentOf(running.State.Pid)),
    );
    const [stopFile, ...stopArgs] = execWords(unit.Service!.ExecStop![0]!);
    const stopped = await engine.inNetns(stopFile!, stopArgs);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    const after = await inspect('svc');
    expect(after.State.Status).toBe('exited');
    expect(after.RestartCount).toBe(0);
    // ExecStopPost on a stopped container is no error.
    const [postFile, ...postArgs] = execWords(unit.Service!.ExecStopPost![0]!);
    expect((await engine.inNetns(postFile!, postArgs)).exitCode).toBe(0);
  });

  it('writes container-NAME.service with --files, and refuses a Restart= systemd does not know', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-unit-'));
    try {
      const files = await engine.gantry(['generate', 'systemd', '--files', '--name', 'svc'], { cwd: dir });
      expect(files.exitCode, files.stderr).toBe(0);
      expect(files.stdout.trim()).toBe(path.join(dir, 'container-svc.service'));
      const text = fs.readFileSync(path.join(dir, 'container-svc.service'), 'utf8');
      expect(parseUnit(text).Service!.Type).toEqual(['forking']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const bad = await engine.gantry(['generate', 'systemd', '--restart-policy', 'sometimes', 'svc']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('invalid --restart-policy "sometimes"');
    expect(bad.stderr).toContain('on-abnormal');
    const unknown = await engine.gantry(['generate', 'kube', 'svc']);
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.stderr).toContain('accepted: systemd');
  });

  it('is a unit systemd’s own parser accepts', async (context) => {
    skipIf(context, needsCommand('systemd-analyze', 'systemd'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-unit-'));
    try {
      const files = await engine.gantry(['generate', 'systemd', '--files', '--name', 'svc'], { cwd: dir });
      expect(files.exitCode, files.stderr).toBe(0);
      const verify = await execa('systemd-analyze', ['verify', files.stdout.trim()], { reject: false });
      expect(verify.exitCode, verify.stderr).toBe(0);
      expect(verify.stderr).not.toContain('container-svc.service:');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
