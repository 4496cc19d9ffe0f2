/**
 * A -v/--mount destination behind a dangling symlink of the image (/data -> /srv/data): the
 * target is made inside the container's root and the mount lands there, as the kernel would
 * resolve the link inside the root. The attack: links to ../../../.. or to an absolute /etc path
 * must not make anything on the host.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, testName } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('symlink-dest')}-`));
// Names the links point at: unique, so a leak on the host is seen and is the test's alone.
const escapeName = path.basename(base);

describeUnless([needsRoot()], 'mount destinations behind symlinks of the image', () => {
  const engine = engineForSuite('symlink-dest');
  const volume = path.join(base, 'volume');
  const file = path.join(base, 'app.conf');
  const hostUp = path.join('/tmp', `${escapeName}-up`);
  const hostEtc = path.join('/etc', `${escapeName}-etc`);

  beforeAll(() => {
    fs.mkdirSync(volume);
    fs.writeFileSync(path.join(volume, 'marker'), 'volume\n');
    fs.writeFileSync(file, 'conf\n');
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it('mounts at the link target made inside the root; ../ and /etc links make nothing on the host', async () => {
    const made = await engine.gantry([
      'run',
      '--name',
      'symlink-base',
      'demo',
      'sh',
      '-c',
      [
        'ln -s /srv/data /data',
        'ln -s relative/deeper /rel',
        `ln -s ../../../../../../../../tmp/${escapeName}-up/made /up`,
        `ln -s /etc/${escapeName}-etc /etclink`,
        'ln -s /opt/conf/app.conf /app.conf',
      ].join(' && '),
    ]);
    expect(made.exitCode, made.stderr).toBe(0);
    expect((await engine.gantry(['commit', 'symlink-base', 'symlinked'])).exitCode).toBe(0);

    const run = await engine.gantry([
      'run',
      '--rm',
      '-v',
      `${volume}:/data`,
      '-v',
      `${volume}:/rel`,
      '-v',
      `${volume}:/up`,
      '--mount',
      `type=bind,source=${volume},destination=/etclink`,
      '-v',
      `${file}:/app.conf:ro`,
      'symlinked',
      'sh',
      '-c',
      `cat /srv/data/marker /relative/deeper/marker /tmp/${escapeName}-up/made/marker /etc/${escapeName}-etc/marker /opt/conf/app.conf; readlink /data`,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout.split('\n')).toEqual(['volume', 'volume', 'volume', 'volume', 'conf', '/srv/data', '']);
    // Nothing of it on the host: the links were resolved inside the container's root.
    expect(fs.existsSync(hostUp)).toBe(false);
    expect(fs.existsSync(hostEtc)).toBe(false);
    expect(fs.readdirSync(volume)).toEqual(['marker']);
  });
});
