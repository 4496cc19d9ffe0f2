/**
 * docker's `container prune`, `system df` and `system prune`: what goes (stopped containers,
 * unused anonymous volumes, dangling or unused images), what stays (running containers and what
 * they use), the filters, the question, and df's columns measured on what the containers wrote.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

interface DfRow {
  Type: string;
  TotalCount: number;
  Active: number;
  Size: string;
  Reclaimable: string;
}

describeUnless(needsRoot(), 'gantry container prune / system df / system prune', () => {
  const engine = engineForSuite('prune-df');

  const id = async (name: string): Promise<string> =>
    (await engine.gantry(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
  const names = async (): Promise<string[]> =>
    (await engine.gantry(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort();
  const df = async (): Promise<DfRow[]> => {
    const result = await engine.gantry(['system', 'df', '--format', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    return result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as DfRow);
  };

  it('container prune removes the stopped containers the filters match, after asking', async () => {
    const up = await engine.gantry(['run', '-d', '--name', 'up', 'demo', 'sleep', '300']);
    expect(up.exitCode, up.stderr).toBe(0);
    // 100000 bytes in its writable layer: what the prune says it freed.
    const wrote = await engine.gantry([
      'run',
      '--name',
      'wrote',
      'demo',
      'sh',
      '-c',
      'head -c 100000 /dev/zero > /big',
    ]);
    expect(wrote.exitCode, wrote.stderr).toBe(0);
    expect(
      (await engine.gantry(['create', '--name', 'kept', '--label', 'keep=1', 'demo', 'true'])).exitCode,
    ).toBe(0);

    const declined = await engine.gantry(['container', 'prune'], { input: 'n\n' });
    expect(declined.exitCode).toBe(0);
    expect(declined.stdout).toMatch(
      /^WARNING! This will remove all stopped containers\.\nAre you sure you want to continue\? \[y\/N\] /,
    );
    expect(await names()).toEqual(['kept', 'up', 'wrote']);

    // Created before an hour ago: none of them.
    const old = await engine.gantry(['container', 'prune', '-f', '--filter', 'until=1h']);
    expect(old.stdout).toBe('Total reclaimed space: 0B\n');
    expect(await names()).toEqual(['kept', 'up', 'wrote']);

    const bad = await engine.gantry(['container', 'prune', '-f', '--filter', 'status=exited']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid filter "status=exited": accepted are until=/);

    const wroteId = await id('wrote');
    const pruned = await engine.gantry(['container', 'prune', '-f', '--filter', 'label!=keep=1']);
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.stdout).toBe(`Deleted Containers:\n${wroteId}\n\nTotal reclaimed space: 100kB\n`);
    expect(await names()).toEqual(['kept', 'up']);
    expect((await engine.gantry(['rm', '-f', 'up', 'kept'])).exitCode).toBe(0);
  });

  it("system df counts what is there and what is in use, in docker's columns", async () => {
    expect((await engine.gantry(['volume', 'create', 'dfvol'])).exitCode).toBe(0);
    const up = await engine.gantry([
      'run',
      '-d',
      '--name',
      'dfup',
      '-v',
      'dfvol:/v',
      'demo',
      'sh',
      '-c',
      'echo 1234 > /v/f; sleep 300',
    ]);
    expect(up.exitCode, up.stderr).toBe(0);
    const done = await engine.gantry([
      'run',
      '--name',
      'dfdone',
      'demo',
      'sh',
      '-c',
      'head -c 100000 /dev/zero > /big',
    ]);
    expect(done.exitCode, done.stderr).toBe(0);
    expect((await engine.gantry(['volume', 'create', 'dfidle'])).exitCode).toBe(0);

    const rows = await df();
    expect(rows.map((row) => row.Type)).toEqual(['Images', 'Containers', 'Local Volumes', 'Build Cache']);
    const [images, containers, volumes] = rows as [DfRow, DfRow, DfRow];
    expect(images.Active).toBe(1);
    expect(containers).toMatchObject({
      TotalCount: 2,
      Active: 1,
      Size: '100kB',
      Reclaimable: '100kB (100%)',
    });
    expect(volumes).toMatchObject({ TotalCount: 2, Active: 1 });

    const table = await engine.gantry(['system', 'df']);
    expect(table.stdout.split('\n')[0]).toMatch(/^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$/);
    expect(table.stdout).toMatch(/^Containers +2 +1 +100kB +100kB \(100%\)$/m);
    const verbose = await engine.gantry(['system', 'df', '-v']);
    expect(verbose.stdout).toMatch(/^Local Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\n/m);
    expect(verbose.stdout).toMatch(/^dfvol +1 +5B$/m);
    expect(verbose.stdout).toMatch(/^dfidle +0 +0B$/m);
    expect((await engine.gantry(['rm', '-f', 'dfup', 'dfdone'])).exitCode).toBe(0);
    expect((await engine.gantry(['volume', 'rm', 'dfvol', 'dfidle'])).exitCode).toBe(0);
  });

  it('system prune removes stopped containers, dangling images and (--volumes) anonymous volumes; -a unused images', async () => {
    const up = await engine.gantry(['run', '-d', '--name', 'spup', 'demo', 'sleep', '300']);
    expect(up.exitCode, up.stderr).toBe(0);
    const anonymous = await engine.gantry(['run', '--name', 'spanon', '-v', '/scratch', 'demo', 'true']);
    expect(anonymous.exitCode, anonymous.stderr).toBe(0);
    const volume = (
      await engine.gantry(['inspect', '-f', '{{(index .Mounts 0).Name}}', 'spanon'])
    ).stdout.trim();
    expect(volume).toMatch(/^[0-9a-f]{64}$/);
    expect((await engine.gantry(['volume', 'create', 'spnamed'])).exitCode).toBe(0);
    // A dangling image (no name) and an unused named one.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-prune-'));
    const archive = path.join(dir, 'sp.tar');
    let dangling: string;
    let unused: string;
    try {
      const exported = await engine.gantry(['export', '-o', archive, 'spanon']);
      expect(exported.exitCode, exported.stderr).toBe(0);
      dangling = (await engine.gantry(['import', archive])).stdout.trim();
      unused = (await engine.gantry(['import', '-m', 'other', archive, 'unused:1'])).stdout.trim();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(dangling).toMatch(/^sha256:/);
    const spanonId = await id('spanon');

    const pruned = await engine.gantry(['system', 'prune', '-f', '--volumes']);
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain(`Deleted Containers:\n${spanonId}\n`);
    expect(pruned.stdout).toContain(`Deleted Volumes:\n${volume}\n`);
    expect(pruned.stdout).toContain(`Deleted Images:\ndeleted: ${dangling}\n`);
    expect(pruned.stdout).toMatch(/^Total reclaimed space: \S+$/m);
    expect(await names()).toEqual(['spup']);
    expect((await engine.gantry(['volume', 'ls', '-q'])).stdout).toBe('spnamed\n');
    const images = async () =>
      (await engine.gantry(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout;
    expect(await images()).toMatch(/^unused:1$/m);

    const all = await engine.gantry(['system', 'prune', '-f', '-a']);
    expect(all.exitCode, all.stderr).toBe(0);
    expect(all.stdout).toContain(`untagged: unused:1\ndeleted: ${unused}\n`);
    // demo is in use by the running container: it stays.
    expect((await images()).trim()).toBe('demo:latest');
    expect((await engine.gantry(['rm', '-f', 'spup'])).exitCode).toBe(0);
    expect((await engine.gantry(['volume', 'rm', 'spnamed'])).exitCode).toBe(0);
  });
});
