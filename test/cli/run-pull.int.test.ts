/**
 * `run` / `create --pull=always|missing|never` against a real docker-registry that listens on the
 * 127.0.0.1 of a network namespace this test made: a missing image is pulled (docker's default),
 * with docker's per-layer progress on stderr and only the container's output or id on stdout; a
 * present image makes no request to the registry; `never` fails with docker's "No such image". A
 * run whose pull is killed (kill -9 of the real CLI at each phase of the pull) leaves nothing
 * after the next command: no journal entry, work directory, layer, blob or download in the cache.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createEngineWithImage,
  createTestEngine,
  GANTRY,
  type RunResult,
  type TestEngine,
} from '../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../support/skip.js';
import { leftovers, phasesOf, runUntilPhase } from '../support/faults.js';
import { startRegistry, type Registry } from '../runtime/images/registry-support.js';
import { makeTempDirectory } from '../runtime/images/support.js';

describeUnless([needsRoot(), needsCommand('docker-registry')], 'gantry run/create --pull', () => {
  let pusher: TestEngine;
  let puller: TestEngine;
  let registry: Registry;
  let base: string;
  let reference: string;
  let afterPush: number;

  /** gantry of the puller's root, run in the pusher's namespace (where the registry listens). */
  const pull = async (args: readonly string[]): Promise<RunResult> => {
    const result = await execa('nsenter', [`--net=/run/netns/${pusher.netns}`, '--', GANTRY, ...args], {
      env: { ...puller.env, GANTRY_DEFAULT_NETWORK: 'none' },
      reject: false,
      stdin: 'ignore',
      stripFinalNewline: false,
    });
    return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? 128 };
  };
  /** The puller's engine as seen from the registry's namespace: for the fault helpers. */
  const pullerThere = (): TestEngine => ({
    ...puller,
    netns: '',
    env: { ...puller.env, GANTRY_DEFAULT_NETWORK: 'none' },
    gantry: pull,
    spawn: (args, options = {}) =>
      execa('nsenter', [`--net=/run/netns/${pusher.netns}`, '--', GANTRY, ...args], {
        env: { ...puller.env, GANTRY_DEFAULT_NETWORK: 'none' },
        reject: false,
        ...options,
      }),
  });
  /** Requests the registry has logged for the manifest so far. */
  const manifestRequests = () =>
    fs
      .readFileSync(path.join(base, 'registry', 'registry.log'), 'utf8')
      .split('\n')
      .filter((line) => /\/v2\/t\/demo\/manifests\//.test(line)).length;
  const imageId = async (engine: (args: readonly string[]) => Promise<RunResult>, name: string) =>
    (await engine(['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim();

  beforeAll(async () => {
    base = makeTempDirectory('run-pull');
    pusher = await createEngineWithImage('run-pull');
    puller = await createTestEngine('run-pull-other');
    registry = await startRegistry(path.join(base, 'registry'), { netns: pusher.netns });
    reference = `${registry.host}/t/demo:v1`;
    const pushed = await pusher.gantry(['push', 'demo', reference]);
    expect(pushed.exitCode, pushed.stderr).toBe(0);
    afterPush = manifestRequests();
  });

  afterAll(async () => {
    await registry?.stop();
    await puller?.cleanup();
    await pusher?.cleanup();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('--pull never: docker\'s "No such image", nothing pulled or created', async () => {
    const refused = await pull(['create', '--pull', 'never', '--network', 'none', reference, 'true']);
    expect(refused.exitCode).toBe(125);
    expect(refused.stderr).toContain(`No such image: ${reference}`);
    expect(refused.stderr).not.toContain('Pulling');
    expect(manifestRequests()).toBe(afterPush);
    expect((await pull(['ps', '-aq'])).stdout).toBe('');
    expect((await pull(['images', '-q'])).stdout).toBe('');

    const bad = await pull(['run', '--pull', 'sometimes', reference, 'true']);
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toContain(
      `invalid pull option: 'sometimes': must be one of "always", "missing" or "never"`,
    );
  });

  it('pulls a missing image with per-layer progress on stderr, then runs it; a present one is not pulled again', async () => {
    const ran = await pull(['run', '--rm', '--network', 'none', reference, 'echo', 'pulled and ran']);
    expect(ran.exitCode, ran.stderr).toBe(0);
    // stdout is the container's alone; the pull spoke on stderr, in docker's words and order.
    expect(ran.stdout).toBe('pulled and ran\n');
    const lines = ran.stderr.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
    const layer = /^([0-9a-f]{12}): Pulling fs layer$/.exec(
      lines.find((line) => /Pulling fs layer/.test(line))!,
    )![1]!;
    const order = [
      new RegExp(`^Unable to find image '${reference.replace(/[.]/g, '\\.')}' locally$`),
      /^Pulling from /,
      new RegExp(`^${layer}: Pulling fs layer$`),
      new RegExp(`^${layer}: Verifying Checksum$`),
      new RegExp(`^${layer}: Download complete$`),
      new RegExp(`^${layer}: Extracting$`),
      new RegExp(`^${layer}: Pull complete$`),
      /^Digest: sha256:[0-9a-f]{64}$/,
      new RegExp(`^Status: Downloaded newer image for ${reference.replace(/[.]/g, '\\.')}$`),
    ].map(at);
    expect(
      order.every((index) => index >= 0),
      ran.stderr,
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(await imageId(pull, reference)).toBe(await imageId((args) => pusher.gantry(args), 'demo'));

    // Present now: not one more request reaches the registry, and nothing is said about pulling.
    const requests = manifestRequests();
    expect(requests).toBeGreaterThan(0);
    const again = await pull(['run', '--rm', '--network', 'none', reference, 'echo', 'again']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toBe('again\n');
    expect(again.stderr).toBe('');
    expect(manifestRequests()).toBe(requests);
  });

  it('--pull always asks the registry even for a present image; -q keeps the pull quiet', async () => {
    const requests = manifestRequests();
    const created = await pull(['create', '--pull', 'always', '--network', 'none', reference, 'true']);
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(created.stderr).toContain(`Status: Image is up to date for ${reference}`);
    expect(created.stderr).not.toContain('Unable to find image');
    expect(manifestRequests()).toBeGreaterThan(requests);

    const quiet = await pull(['create', '-q', '--pull=always', '--network', 'none', reference, 'true']);
    expect(quiet.exitCode, quiet.stderr).toBe(0);
    expect(quiet.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(quiet.stderr).toBe('');
  });

  it("a tag the registry does not have: the lookup is said, then the registry's answer, exit 125", async () => {
    const missing = `${registry.host}/t/demo:nope`;
    const failed = await pull(['run', '--rm', '--network', 'none', missing, 'true']);
    expect(failed.exitCode).toBe(125);
    expect(failed.stderr).toContain(`Unable to find image '${missing}' locally`);
    expect(failed.stderr).toContain(`manifest unknown: ${missing} not found`);
    expect((await pull(['ps', '-aq'])).stdout.split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('a run whose pull is killed at each phase: the next command leaves nothing, and the run then works', async () => {
    const engine = pullerThere();
    const cache = path.join(puller.root, 'cache', 'pull', 'sha256');
    /** Removes the image (and what the earlier tests made of it), so that the next run pulls it all. */
    const forget = async () => {
      const ids = (await pull(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) expect((await pull(['rm', '-f', ...ids])).exitCode).toBe(0);
      if ((await pull(['images', '-q'])).stdout.trim() !== '')
        expect((await pull(['image', 'rm', reference])).exitCode).toBe(0);
      expect((await pull(['images', '-q'])).stdout).toBe('');
    };
    await forget();
    const args = ['run', '--rm', '--network', 'none', reference, 'true'];
    const traced = await engine.spawn(args, {
      env: { ...puller.env, GANTRY_DEFAULT_NETWORK: 'none', GANTRY_TRACE: '1' },
      stdin: 'ignore',
    });
    expect(traced.exitCode, String(traced.stderr)).toBe(0);
    const phases = phasesOf(String(traced.stderr)).filter((phase) => /^(pull|store|import): /.test(phase));
    // Killed with a download half-way, with every layer in the cache, and while storing.
    expect(phases).toEqual(
      expect.arrayContaining(['pull: layer transferring', 'pull: layers downloaded', 'pull: stored']),
    );
    for (const phase of phases) {
      await forget();
      const stopped = await runUntilPhase(engine, args, phase, {
        ...puller.env,
        GANTRY_DEFAULT_NETWORK: 'none',
      });
      if (phase === 'pull: layer transferring')
        expect(
          fs.readdirSync(cache).some((name) => name.endsWith('.partial')),
          phase,
        ).toBe(true);
      await stopped.kill();
      // The next command, of another kind, finishes or undoes the pull.
      const next = await pull(['ps', '-a']);
      expect(next.exitCode, `${phase}: ${next.stderr}`).toBe(0);
      expect(leftovers(puller.root, puller.cgroupParent), phase).toEqual([]);
      expect(fs.existsSync(cache) ? fs.readdirSync(cache) : [], phase).toEqual([]);
    }
    // And the same run pulls and runs.
    await forget();
    const ran = await pull(args);
    expect(ran.exitCode, ran.stderr).toBe(0);
    expect(ran.stderr).toContain('Pull complete');
  });
});
