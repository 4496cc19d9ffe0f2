/**
 * A full disk, for real: the state root is a 30 MB tmpfs the test mounts under its own temporary
 * directory, filled by a container writing until ENOSPC (or by a file of the test's). A container
 * that ends there keeps its real exit status; reading commands (diff of a running container too)
 * work without writing; stop and rm -f work, rm -f frees the space and the next run works; every
 * command that needs space says ENOSPC with the path it was writing and a hint, never a stack
 * trace, and leaves nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEngine, testName, type TestEngine } from '../../support/engine.js';
import { fillDisk, leftovers, mountSmallTmpfs, type SmallDisk } from '../../support/faults.js';
import { describeUnless, needsRoot, skipIf } from '../../support/skip.js';
import { registryMissing, startRegistry, type Registry } from '../images/registry-support.js';

/** Free bytes for an unprivileged writer (tmpfs reserves nothing for root). */
function freeBytes(directory: string): number {
  const stats = fs.statfsSync(directory);
  return stats.bavail * stats.bsize;
}

/** An error that says ENOSPC, where, and what to do, and is no stack trace. */
function expectNamedFullDisk(stderr: string, under: string, what: string): void {
  expect(stderr, what).toMatch(new RegExp(`ENOSPC: no space left on device writing (under )?${under}`));
  expect(stderr, what).toContain('hint: free space');
  expect(stderr, what).not.toMatch(/^\s+at /m);
  expect(stderr, what).not.toContain('node:');
  expect(stderr, what).not.toMatch(/^(Error|Uncaught)/m);
}

describeUnless(needsRoot(), 'a full disk', () => {
  let temp: string;
  let disk: SmallDisk;
  let engine: TestEngine;
  let root: string;

  async function ok(args: string[]): Promise<string> {
    const result = await engine.gantry(args);
    expect(result.exitCode, `gantry ${args.join(' ')}:\n${result.stderr}`).toBe(0);
    return result.stdout.trim();
  }

  beforeAll(async () => {
    temp = fs.mkdtempSync(path.join('/tmp', `${testName('full-disk')}-`));
    disk = mountSmallTmpfs(temp, 'disk', '30m');
    root = path.join(disk.path, 'root');
    // In the host's network namespace, to reach the registry the pull test runs on 127.0.0.1.
    engine = await createTestEngine('full-disk', { root, hostNetwork: true });
    await ok(['image', 'from-host', 'demo']);
  });

  afterAll(async () => {
    try {
      await engine?.cleanup();
    } finally {
      disk?.unmount();
      fs.rmSync(temp, { recursive: true, force: true });
    }
  });

  it('a container that ends on a full disk keeps its exit status; run reports the bookkeeping apart', async () => {
    // Running before the disk fills: stopping it later must work.
    await ok(['run', '-d', '--name', 'bystander', 'demo', 'sleep', '600']);
    await ok(['exec', 'bystander', 'touch', '/made']);
    const run = await engine.gantry([
      'run',
      '--name',
      'filler',
      'demo',
      'sh',
      '-c',
      'dd if=/dev/zero of=/fill bs=1M count=100 2>/dev/null; echo done; exit 3',
    ]);
    expect(freeBytes(disk.path)).toBe(0);
    expect(run.stdout).toBe('done\n');
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.stderr).toContain('the end of container filler could not be recorded');
    expectNamedFullDisk(run.stderr, root, 'run');
    const state = JSON.parse(await ok(['inspect', 'filler']))[0].State;
    expect(state.Status).toBe('exited');
    expect(state.ExitCode).toBe(3);
    expect(state.Error).toBe('');
  });

  it('reads, stops and removes on the full disk; rm -f frees the space and the next run works', async () => {
    expect(freeBytes(disk.path)).toBe(0);
    const ps = await engine.gantry(['ps', '-a', '--format', '{{.Names}} {{.State}}']);
    expect(ps.exitCode, ps.stderr).toBe(0);
    expect(ps.stdout).toContain('filler exited');
    expect(ps.stdout).toContain('bystander running');
    expect((await engine.gantry(['inspect', 'bystander'])).exitCode).toBe(0);
    const logs = await engine.gantry(['logs', 'filler']);
    expect(logs.exitCode, logs.stderr).toBe(0);
    // diff of a running container: no room to record a pause, so its layer is read live.
    const diff = await engine.gantry(['diff', 'bystander']);
    expect(diff.exitCode, diff.stderr).toBe(0);
    expect(diff.stdout.split('\n')).toContain('A /made');
    expect(JSON.parse(await ok(['inspect', 'bystander']))[0].State.Status).toBe('running');
    const stop = await engine.gantry(['stop', '-t', '1', 'bystander']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(JSON.parse(await ok(['inspect', 'bystander']))[0].State.Status).toBe('exited');
    expect((await engine.gantry(['rm', 'bystander'])).exitCode).toBe(0);
    const rm = await engine.gantry(['rm', '-f', 'filler']);
    expect(rm.exitCode, rm.stderr).toBe(0);
    expect(freeBytes(disk.path)).toBeGreaterThan(20 << 20);
    const next = await engine.gantry(['run', '--rm', 'demo', 'echo', 'hello']);
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stdout).toBe('hello\n');
    expect(leftovers(root, engine.cgroupParent)).toEqual([]);
  }, 600_000);

  // About twenty commands, each checked for leftovers: minutes on a loaded machine.
  it('every command that needs space names the path and what to do, and leaves nothing', async () => {
    // Material made while there is room: an archive (off the small disk), a container with
    // changes to commit, a build context.
    await ok(['run', '--name', 'changed', 'demo', 'sh', '-c', 'echo changed > /changed']);
    await ok(['commit', 'changed', 'unique:1']);
    const archive = path.join(temp, 'unique.tar');
    await ok(['image', 'export', 'unique:1', archive]);
    const context_ = path.join(temp, 'context');
    fs.mkdirSync(context_);
    fs.writeFileSync(path.join(context_, 'Containerfile'), 'FROM demo\nRUN echo built > /built\n');
    await ok(['image', 'rm', 'unique:1']);
    // A container to start and one to pause: neither may be left half-started or frozen.
    await ok(['create', '--name', 'idle', 'demo', 'sleep', '600']);
    await ok(['run', '-d', '--name', 'awake', 'demo', 'sleep', '600']);
    const filler = fillDisk(root, path.join(root, 'test-filler'));
    try {
      expect(freeBytes(disk.path)).toBe(0);
      const commands: string[][] = [
        ['image', 'from-host', 'other'],
        ['image', 'import', archive, 'imported:1'],
        ['commit', 'changed', 'committed:1'],
        ['build', '-t', 'built:1', context_],
        ['create', '--name', 'newcomer', 'demo', 'true'],
        ['run', '--rm', 'demo', 'true'],
        ['start', 'idle'],
        ['pause', 'awake'],
        ['tag', 'demo', 'tagged:1'],
      ];
      for (const args of commands) {
        const result = await engine.gantry(args);
        expect(result.exitCode, args.join(' ')).not.toBe(0);
        expectNamedFullDisk(result.stderr, root, args.join(' '));
        expect(leftovers(root, engine.cgroupParent), args.join(' ')).toEqual([]);
      }
    } finally {
      fs.rmSync(filler);
    }
    expect(JSON.parse(await ok(['inspect', 'idle']))[0].State.Status).toBe('created');
    expect(await ok(['exec', 'awake', 'echo', 'thawed'])).toBe('thawed');
    await ok(['rm', '-f', 'changed', 'idle', 'awake']);
  }, 600_000);

  it('pull on a full disk names the file it was downloading, and a later pull succeeds', async (context) => {
    skipIf(context, registryMissing);
    const registry: Registry = await startRegistry(path.join(temp, 'registry'));
    try {
      await ok(['run', '--name', 'pushed', 'demo', 'sh', '-c', 'head -c 3000000 /dev/urandom > /noise']);
      await ok(['commit', 'pushed', 'pushed:1']);
      await ok(['rm', 'pushed']);
      await ok(['push', 'pushed:1', `${registry.host}/pushed:1`]);
      await ok(['image', 'rm', 'pushed:1']);
      const filler = fillDisk(root, path.join(root, 'test-filler'));
      try {
        const pull = await engine.gantry(['pull', `${registry.host}/pushed:1`]);
        expect(pull.exitCode).not.toBe(0);
        expectNamedFullDisk(pull.stderr, root, 'pull');
        expect(leftovers(root, engine.cgroupParent)).toEqual([]);
      } finally {
        fs.rmSync(filler);
      }
      const again = await engine.gantry(['pull', `${registry.host}/pushed:1`]);
      expect(again.exitCode, again.stderr).toBe(0);
      await ok(['image', 'rm', `${registry.host}/pushed:1`]);
    } finally {
      await registry.stop();
    }
  });
});
