/**
 * The CLI of the registry and export work, run as a user would: `gantry login/logout/pull/push`,
 * `gantry image export/pull/push`, against a real docker-registry on 127.0.0.1; what umoci,
 * skopeo and buildah write from our exports imports and runs here.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineWithImage, createTestEngine, type TestEngine } from '../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../support/skip.js';
import {
  registryMissing,
  htpasswdLine,
  startRegistry,
  type Registry,
} from '../runtime/images/registry-support.js';
import { Buildah, makeTempDirectory } from '../runtime/images/support.js';

const missing = [needsRoot(), registryMissing, needsCommand('umoci'), needsCommand('buildah')];

describeUnless(missing, 'gantry pull/push/login/logout and image export', () => {
  let engine: TestEngine;
  let other: TestEngine;
  let base: string;
  let anonymous: Registry;
  let basic: Registry;

  beforeAll(async () => {
    base = makeTempDirectory('cli-transfer');
    // The registries listen on the host's 127.0.0.1: gantry runs in the host's namespace.
    engine = await createEngineWithImage('cli-transfer', { hostNetwork: true });
    other = await createTestEngine('cli-transfer-other', { hostNetwork: true });
    anonymous = await startRegistry(path.join(base, 'anonymous'));
    basic = await startRegistry(path.join(base, 'basic'), { htpasswd: htpasswdLine('alice', 'wonderland') });
  });

  afterAll(async () => {
    await anonymous?.stop();
    await basic?.stop();
    await engine?.cleanup();
    await other?.cleanup();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('push, then pull into another root: progress lines, same image, and it runs', async () => {
    const pushed = await engine.gantry(['push', 'demo', `${anonymous.host}/cli/demo:v1`]);
    expect(pushed.exitCode).toBe(0);
    expect(pushed.stdout).toMatch(/: Pushed\n/);
    expect(pushed.stdout).toContain(`${anonymous.host}/cli/demo:v1: digest: sha256:`);

    // Not a terminal: one line per change, no bars or escape codes.
    const pulled = await other.gantry(['pull', `${anonymous.host}/cli/demo:v1`]);
    expect(pulled.exitCode).toBe(0);
    expect(pulled.stdout).not.toContain('\x1b[');
    expect(pulled.stdout).toContain(`Pulling from ${anonymous.host}/cli/demo:v1`);
    expect(pulled.stdout).toMatch(/[0-9a-f]{12}: Download complete\n/);
    expect(pulled.stdout).toContain(`Status: Downloaded newer image for ${anonymous.host}/cli/demo:v1`);
    const ids = async (target: TestEngine, name: string) =>
      (await target.gantry(['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim();
    expect(await ids(other, `${anonymous.host}/cli/demo:v1`)).toBe(await ids(engine, 'demo'));

    const run = await other.gantry([
      'run',
      '--rm',
      `${anonymous.host}/cli/demo:v1`,
      'echo',
      'pulled and running',
    ]);
    expect(run.stdout).toBe('pulled and running\n');

    const again = await other.gantry(['image', 'pull', '--json', `${anonymous.host}/cli/demo:v1`]);
    expect(again.exitCode).toBe(0);
    const json = JSON.parse(again.stdout) as { Id: string; Layers: Array<{ Source: string }> };
    expect(json.Layers.map((layer) => layer.Source)).toEqual(['present']);

    const pushedAgain = await engine.gantry([
      'image',
      'push',
      '--json',
      'demo',
      `${anonymous.host}/cli/demo:v1`,
    ]);
    expect(
      (JSON.parse(pushedAgain.stdout) as { Blobs: Array<{ Action: string }> }).Blobs.map(
        (blob) => blob.Action,
      ),
    ).toEqual(['exists', 'exists']);
  });

  it('reports a missing tag or repository with exit status 1 and says which', async () => {
    const missing = await other.gantry(['pull', `${anonymous.host}/cli/demo:nope`]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain(`gantry: manifest unknown: ${anonymous.host}/cli/demo:nope not found`);
    const badPlatform = await other.gantry(['pull', '--platform', 'linux', `${anonymous.host}/cli/demo:v1`]);
    expect(badPlatform.exitCode).not.toBe(0);
    expect(badPlatform.stderr).toContain('a platform is os/arch[/variant]');
    const plain = await other.gantry(['pull', '--tls-verify=true', 'registry.invalid./x:1']);
    expect(plain.exitCode).not.toBe(0);
  });

  it('login checks the password, stores it 0600, and logout removes it', async () => {
    const authFile = path.join(engine.root, 'auth.json');
    const wrong = await engine.gantry(['login', '--username', 'alice', '--password-stdin', basic.host], {
      input: 'nope\n',
    });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toContain('refused the credentials of "alice"');
    expect(fs.existsSync(authFile)).toBe(false);

    const anonymousPush = await engine.gantry(['push', 'demo', `${basic.host}/private/demo:v1`]);
    expect(anonymousPush.exitCode).toBe(1);
    expect(anonymousPush.stderr).toContain(`hint: log in first: gantry login ${basic.host}`);

    const login = await engine.gantry(['login', '-u', 'alice', '--password-stdin', basic.host], {
      input: 'wonderland\n',
    });
    expect(login.exitCode).toBe(0);
    expect(login.stdout).toBe('Login Succeeded!\n');
    expect(fs.statSync(authFile).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(fs.readFileSync(authFile, 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    expect(Buffer.from(stored.auths[basic.host]!.auth, 'base64').toString()).toBe('alice:wonderland');
    expect((await engine.gantry(['login', '--get-login', basic.host])).stdout).toBe('alice\n');

    expect((await engine.gantry(['push', 'demo', `${basic.host}/private/demo:v1`])).exitCode).toBe(0);
    expect((await engine.gantry(['pull', '-q', `${basic.host}/private/demo:v1`])).stdout).toBe(
      `${basic.host}/private/demo:v1\n`,
    );

    const logout = await engine.gantry(['logout', basic.host]);
    expect(logout.stdout).toBe(`Removed login credentials for ${basic.host}\n`);
    expect(JSON.parse(fs.readFileSync(authFile, 'utf8'))).toEqual({ auths: {} });
    expect((await engine.gantry(['logout', basic.host])).exitCode).toBe(1);
    expect((await engine.gantry(['pull', `${basic.host}/private/demo:v1`])).stderr).toContain(
      'authentication required',
    );
  });

  it('honours $REGISTRY_AUTH_FILE and --creds', async () => {
    const authFile = path.join(base, 'elsewhere', 'auth.json');
    const env = { ...engine.env, REGISTRY_AUTH_FILE: authFile };
    const login = await engine.gantry(['login', '-u', 'alice', '--password-stdin', basic.host], {
      input: 'wonderland',
      env,
    });
    expect(login.exitCode).toBe(0);
    expect(fs.existsSync(authFile)).toBe(true);
    expect((await engine.gantry(['pull', '-q', `${basic.host}/private/demo:v1`], { env })).exitCode).toBe(0);
    expect(
      (await engine.gantry(['pull', '-q', '--creds', 'alice:wonderland', `${basic.host}/private/demo:v1`]))
        .exitCode,
    ).toBe(0);
  });

  // One export in each format, read by each peer in a test of its own: every test does one
  // thing, so a slow machine never has to fit them all in one test's time.
  describe('an export in every format', () => {
    const formats = ['oci', 'oci-archive', 'docker-archive'];
    let out = '';
    const exported = new Map<string, Awaited<ReturnType<TestEngine['gantry']>>>();
    beforeAll(async () => {
      out = path.join(base, 'exports');
      fs.mkdirSync(out);
      for (const format of formats)
        exported.set(
          format,
          await engine.gantry(['image', 'export', '--format', format, 'demo', path.join(out, format)]),
        );
    });

    it('writes oci, oci-archive and docker-archive, the archive to stdout too, and refuses what it cannot write', async () => {
      for (const format of formats) {
        const result = exported.get(format)!;
        expect(result.exitCode, result.stderr).toBe(0);
        expect(result.stdout).toContain(`Exported demo:latest to ${path.join(out, format)} (${format}`);
      }
      // `-` writes the archive to stdout, as docker save does; it is the same archive.
      const piped = path.join(out, 'piped.tar');
      const toStdout = await engine.gantry(['image', 'export', 'demo', '-'], {
        stdout: { file: piped },
      });
      expect(toStdout.exitCode, toStdout.stderr).toBe(0);
      expect(fs.readFileSync(piped).equals(fs.readFileSync(path.join(out, 'docker-archive')))).toBe(true);
      expect(fs.existsSync(path.join(process.cwd(), '-'))).toBe(false);
      const ociToStdout = await engine.gantry(['image', 'export', '--format', 'oci', 'demo', '-']);
      expect(ociToStdout.exitCode).not.toBe(0);
      expect(ociToStdout.stderr).toContain('--format oci writes a directory, which cannot go to stdout');
      const bad = await engine.gantry(['image', 'export', '--format', 'zip', 'demo', path.join(out, 'zip')]);
      expect(bad.exitCode).not.toBe(0);
      expect(bad.stderr).toContain('accepted: oci, oci-archive, docker-archive');
    });

    it('umoci unpacks the oci layout, repacks it with a file added, and that imports and runs here', async () => {
      // umoci: unpack our layout, add a file, repack as a new tag, import, run.
      const bundle = path.join(out, 'bundle');
      execFileSync('umoci', ['unpack', '--image', `${path.join(out, 'oci')}:latest`, bundle], {
        stdio: 'pipe',
      });
      fs.writeFileSync(path.join(bundle, 'rootfs/umoci-was-here'), 'repacked by umoci\n');
      execFileSync('umoci', ['repack', '--image', `${path.join(out, 'oci')}:umoci`, bundle], {
        stdio: 'pipe',
      });
      // Our index entry keeps its names; umoci's new entry has only the tag, so name it here.
      const imported = await engine.gantry(['image', 'import', path.join(out, 'oci'), 'umoci/demo:v1']);
      expect(imported.exitCode, imported.stderr).not.toBe(0);
      expect(imported.stderr).toContain('holds 2 images');
      execFileSync('skopeo', [
        'copy',
        '--quiet',
        `oci:${path.join(out, 'oci')}:umoci`,
        `oci-archive:${path.join(out, 'umoci.tar')}`,
      ]);
      expect(
        (await engine.gantry(['image', 'import', path.join(out, 'umoci.tar'), 'umoci/demo:v1'])).exitCode,
      ).toBe(0);
      expect((await engine.gantry(['run', '--rm', 'umoci/demo:v1', 'cat', '/umoci-was-here'])).stdout).toBe(
        'repacked by umoci\n',
      );
    });

    it('skopeo copies the oci-archive to a docker-archive of its own, and that imports and runs here', async () => {
      // skopeo: our oci-archive to a docker-archive with its own tag.
      execFileSync('skopeo', [
        'copy',
        '--quiet',
        `oci-archive:${path.join(out, 'oci-archive')}`,
        `docker-archive:${path.join(out, 'skopeo.tar')}:skopeo/demo:v1`,
      ]);
      expect((await engine.gantry(['image', 'import', path.join(out, 'skopeo.tar')])).exitCode).toBe(0);
      expect((await engine.gantry(['run', '--rm', 'skopeo/demo:v1', 'echo', 'skopeo ok'])).stdout).toBe(
        'skopeo ok\n',
      );
    });

    it('buildah builds on the docker-archive and pushes an oci-archive, and that imports and runs here', async () => {
      // buildah: our docker-archive as a base, one more layer, pushed as an oci-archive.
      const buildah = new Buildah(base);
      try {
        await buildah.run('from', '--name', 'on-top', `docker-archive:${path.join(out, 'docker-archive')}`);
        fs.writeFileSync(
          path.join(await buildah.run('mount', 'on-top'), 'buildah-was-here'),
          'built by buildah\n',
        );
        await buildah.run('commit', '--quiet', 'on-top', 'localhost/buildah/demo:v1');
        await buildah.run(
          'push',
          '--quiet',
          'localhost/buildah/demo:v1',
          `oci-archive:${path.join(out, 'buildah.tar')}:localhost/buildah/demo:v1`,
        );
      } finally {
        await buildah.cleanup();
      }
      expect((await engine.gantry(['image', 'import', path.join(out, 'buildah.tar')])).exitCode).toBe(0);
      expect(
        (await engine.gantry(['run', '--rm', 'localhost/buildah/demo:v1', 'cat', '/buildah-was-here']))
          .stdout,
      ).toBe('built by buildah\n');
    });
  });
});
