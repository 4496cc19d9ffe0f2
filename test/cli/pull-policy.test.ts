/**
 * The checks behind `run --pull`, `--pid/--ipc/--uts host` (and podman's `--uts container:X`) and
 * `-a`, before anything runs: docker's accepted values and its words for the refused ones.
 */
import { describe, expect, it } from 'vitest';
import { familiarReference, pullPolicy } from '../../source/cli/commands/pull-policy.js';
import { createOptionsFrom } from '../../source/cli/commands/run-options.js';
import { sharedNamespaceModes } from '../../source/runtime/containers/shared-namespaces.js';

describe('--pull', () => {
  it('takes always, missing and never; missing by default', () => {
    expect(pullPolicy({})).toBe('missing');
    expect(pullPolicy({ pull: 'always' })).toBe('always');
    expect(pullPolicy({ pull: 'never' })).toBe('never');
    expect(() => pullPolicy({ pull: 'newer' })).toThrow(
      `invalid pull option: 'newer': must be one of "always", "missing" or "never"`,
    );
  });

  it("names an image in docker's familiar form", () => {
    expect(familiarReference('busybox')).toBe('busybox:latest');
    expect(familiarReference('127.0.0.1:5000/t/demo')).toBe('127.0.0.1:5000/t/demo:latest');
    expect(familiarReference('127.0.0.1:5000/t/demo:v1')).toBe('127.0.0.1:5000/t/demo:v1');
    expect(familiarReference(`demo@sha256:${'a'.repeat(64)}`)).toBe(`demo@sha256:${'a'.repeat(64)}`);
  });
});

describe('--pid/--ipc/--uts host', () => {
  it('records host modes, and refuses what docker refuses', () => {
    expect(sharedNamespaceModes({ pid: 'host', ipc: 'host', uts: 'host' })).toEqual({
      PidMode: 'host',
      IpcMode: 'host',
      UTSMode: 'host',
    });
    expect(sharedNamespaceModes({ ipc: 'shareable', pid: 'private' })).toEqual({});
    expect(() => sharedNamespaceModes({ uts: 'host', hostname: 'box' })).toThrow(
      'conflicting options: hostname and the UTS mode',
    );
    // podman's --uts container:X (how a pod's members join its infra container's), not with
    // a hostname of the container's own; private is docker's default, not a --uts value.
    expect(sharedNamespaceModes({ uts: 'container:x' })).toEqual({ UTSMode: 'container:x' });
    expect(() => sharedNamespaceModes({ uts: 'container:x', hostname: 'box' })).toThrow(
      'conflicting options: hostname and the UTS mode',
    );
    expect(() => sharedNamespaceModes({ uts: 'private' })).toThrow('invalid --uts "private"');
    expect(() => sharedNamespaceModes({ uts: 'container:' })).toThrow('invalid --uts "container:"');
    expect(() => sharedNamespaceModes({ pid: 'host', userns: 'auto' })).toThrow(
      '--pid host cannot be combined with a user namespace',
    );
    expect(sharedNamespaceModes({ uts: 'host', userns: 'auto' })).toEqual({ UTSMode: 'host' });
  });
});

describe('-a/--attach', () => {
  it('takes the stream names in any case and refuses others', async () => {
    expect((await createOptionsFrom({ attach: ['STDOUT'] }, ['demo'])).attach).toEqual({
      stdin: false,
      stdout: true,
      stderr: false,
    });
    expect((await createOptionsFrom({}, ['demo'])).attach).toBeUndefined();
    await expect(createOptionsFrom({ attach: ['stdlog'] }, ['demo'])).rejects.toThrow(
      'valid streams are STDIN, STDOUT and STDERR',
    );
  });
});
