/** `top` on the real kernel: docker's columns, exactly the container's processes (its cgroup), ps options passed through. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

describeUnless(needsRoot(), 'top', () => {
  const engine = engineForSuite('top');

  it("lists the container's processes with docker's default columns, and ps options", async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'busy',
      'demo',
      'sh',
      '-c',
      'sleep 1000 & exec sleep 999',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const cgroupPids = fs
      .readFileSync(path.join('/sys/fs/cgroup/pids', engine.cgroupParent, id, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .sort();
    const top = await engine.gantry(['top', 'busy']);
    expect(top.exitCode, top.stderr).toBe(0);
    const [header, ...rows] = top.stdout.trimEnd().split('\n');
    expect(header!.trim().split(/\s+/)).toEqual(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    expect(rows.map((row) => row.trim().split(/\s+/)[1]).sort()).toEqual(cgroupPids);
    expect(rows.map((row) => row.slice(row.lastIndexOf('00:00:') + 8).trim()).sort()).toEqual([
      'sleep 1000',
      'sleep 999',
    ]);
    const custom = await engine.gantry(['top', 'busy', '-o', 'pid,comm']);
    expect(custom.exitCode, custom.stderr).toBe(0);
    expect(custom.stdout.split('\n')[0]!.trim().split(/\s+/)).toEqual(['PID', 'COMMAND']);
    const noPid = await engine.gantry(['top', 'busy', '-o', 'comm']);
    expect(noPid.exitCode).toBe(1);
    expect(noPid.stderr).toContain("couldn't find PID field in ps output");
    expect((await engine.gantry(['rm', '-f', 'busy'])).exitCode).toBe(0);
    const stopped = await engine.gantry(['top', 'busy']);
    expect(stopped.exitCode).not.toBe(0);
  });
});
