/** `gantry info`: docker's fields, compared with what the host and the state root say. */
import fs from 'node:fs';
import os from 'node:os';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { engineForSuite } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

describeUnless(needsRoot(), 'gantry info', () => {
  const engine = engineForSuite('info');

  it('counts containers by state and images, and names the storage, cgroups, kernel and host', async () => {
    for (const args of [
      ['run', '-d', '--name', 'up', '--network', 'none', 'demo', 'sleep', '300'],
      ['run', '-d', '--name', 'held', '--network', 'none', 'demo', 'sleep', '300'],
      ['create', '--name', 'idle', '--network', 'none', 'demo', 'true'],
      ['pause', 'held'],
    ]) {
      const result = await engine.gantry(args);
      expect(result.exitCode, result.stderr).toBe(0);
    }
    const result = await engine.gantry(['info', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const info = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(info).toMatchObject({
      Containers: 3,
      ContainersRunning: 1,
      ContainersPaused: 1,
      ContainersStopped: 1,
      Images: 1,
      Driver: 'overlay',
      CgroupDriver: 'cgroupfs',
      OSType: 'linux',
      KernelVersion: os.release(),
      Architecture: os.machine(),
      NCPU: os.availableParallelism(),
      MemTotal: os.totalmem(),
      DockerRootDir: engine.root,
      Name: os.hostname(),
      CgroupParent: engine.cgroupParent,
      DefaultRuntime: 'gantry',
    });
    // The cgroup version is the one mounted at /sys/fs/cgroup (cgroup2 alone is v2).
    const mounted = (await execa('stat', ['-f', '-c', '%T', '/sys/fs/cgroup'])).stdout.trim();
    expect(info.CgroupVersion).toBe(mounted === 'cgroup2fs' ? '2' : '1');
    // The filesystem under the root, as stat(1) names it (ext2/ext3 is docker's "extfs").
    const backing = (await execa('stat', ['-f', '-c', '%T', engine.root])).stdout.trim();
    const [, named] = (info.DriverStatus as [string, string][])[0]!;
    expect(named).toBe(({ 'ext2/ext3': 'extfs' } as Record<string, string>)[backing] ?? backing);
    const release = fs.readFileSync('/etc/os-release', 'utf8');
    expect(release).toContain(`PRETTY_NAME="${info.OperatingSystem as string}"`);
    expect(fs.existsSync((info.Runtimes as Record<string, { path: string }>).gantry!.path)).toBe(true);

    const text = (await engine.gantry(['info'])).stdout.split('\n');
    for (const line of [
      'Containers: 3',
      ' Running: 1',
      ' Paused: 1',
      ' Stopped: 1',
      'Images: 1',
      'Storage Driver: overlay',
      `Cgroup Version: ${info.CgroupVersion as string}`,
      'Cgroup Driver: cgroupfs',
      `Kernel Version: ${os.release()}`,
      `CPUs: ${os.availableParallelism()}`,
      `Gantry Root Dir: ${engine.root}`,
    ])
      expect(text).toContain(line);
    const formatted = await engine.gantry([
      'info',
      '--format',
      '{{.ContainersRunning}}/{{.Containers}} {{json .DriverStatus}}',
    ]);
    expect(formatted.stdout).toBe(`1/3 ${JSON.stringify(info.DriverStatus)}\n`);
    expect(JSON.parse((await engine.gantry(['info', '--format', 'json'])).stdout)).toMatchObject({
      Images: 1,
    });
  });
});
