import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../source/runtime/errors.js';
import {
  formatReference,
  normalizeReference,
  parseImageName,
  parseReference,
} from '../../../source/runtime/images/reference.js';
import { chainIds, sha256Digest, validateDigest } from '../../../source/runtime/images/digest.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it.each([
    ['busybox', 'busybox:latest', 'docker.io', 'library/busybox'],
    ['busybox:1.36', 'busybox:1.36', 'docker.io', 'library/busybox'],
    ['docker.io/library/busybox:1.36', 'busybox:1.36', 'docker.io', 'library/busybox'],
    ['index.docker.io/library/busybox', 'busybox:latest', 'docker.io', 'library/busybox'],
    ['team/app', 'team/app:latest', 'docker.io', 'team/app'],
    ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag', 'localhost:5000', 'a/b'],
    ['localhost/app', 'localhost/app:latest', 'localhost', 'app'],
    [
      'quay.io/org/some-app_x.y__z:v1.2_rc-3',
      'quay.io/org/some-app_x.y__z:v1.2_rc-3',
      'quay.io',
      'org/some-app_x.y__z',
    ],
    ['[::1]:5000/app', '[::1]:5000/app:latest', '[::1]:5000', 'app'],
  ])('normalizes %s to %s', (input, familiar, registry, repository) => {
    const reference = normalizeReference(input);
    expect(formatReference(reference)).toBe(familiar);
    expect(reference.registry).toBe(registry);
    expect(reference.repository).toBe(repository);
  });

  it('keeps a digest and does not add a tag next to it', () => {
    const reference = normalizeReference(`busybox@${DIGEST}`);
    expect(reference.tag).toBeUndefined();
    expect(reference.digest).toBe(DIGEST);
    expect(formatReference(reference)).toBe(`busybox@${DIGEST}`);
    expect(formatReference(normalizeReference(`busybox:1@${DIGEST}`))).toBe(`busybox:1@${DIGEST}`);
  });

  it('does not take a port for a tag', () => {
    const reference = parseReference('localhost:5000/app');
    expect(reference.tag).toBeUndefined();
    expect(reference.name).toBe('localhost:5000/app');
  });

  it.each([
    ['', /empty/],
    ['Busybox', /lowercase/],
    ['busybox:', /tag "" is not valid/],
    ['busybox:-x', /tag "-x" is not valid/],
    [`busybox:${'t'.repeat(129)}`, /tag/],
    ['bad..name', /not a valid name component/],
    ['a//b', /empty path component/],
    ['/abs', /empty path component/],
    ['has space', /whitespace/],
    ['127.0.0.1:99999/app:1', /the port 99999 is out of range \(1 to 65535\)/],
    ['localhost:0/app', /the port 0 is out of range/],
    ['busybox@sha256:abc', /malformed/],
    [`busybox@sha512:${'a'.repeat(128)}`, /algorithm "sha512" is not supported/],
    [`busybox@sha256:${'A'.repeat(64)}`, /malformed/],
    [`${'a'.repeat(256)}`, /longer than 255/],
  ])('refuses %j with a clear message', (input, message) => {
    expect(() => parseReference(input)).toThrow(InvalidArgumentError);
    expect(() => parseReference(input)).toThrow(message);
    try {
      parseReference(input);
    } catch (error) {
      expect((error as InvalidArgumentError).hint).toBeTruthy();
    }
  });
});

describe('parseImageName', () => {
  it('adds the default tag', () => {
    expect(parseImageName('myapp')).toBe('myapp:latest');
    expect(parseImageName('docker.io/library/myapp:v1')).toBe('myapp:v1');
  });
  it('refuses a digest', () => {
    expect(() => parseImageName(`myapp@${DIGEST}`)).toThrow(/contains a digest/);
  });
});

describe('digests', () => {
  it('accepts only sha256 with 64 lowercase hex digits', () => {
    expect(validateDigest(DIGEST, 'x')).toBe(DIGEST);
    for (const bad of [
      'sha256:../../etc',
      `sha256:${'a'.repeat(63)}`,
      `sha256:${'a'.repeat(64)}/x`,
      DIGEST.toUpperCase(),
      7,
    ]) {
      expect(() => validateDigest(bad, 'layer')).toThrow(/layer: invalid digest/);
    }
  });

  it('computes ChainIDs as the image spec defines them', () => {
    const a = sha256Digest('a');
    const b = sha256Digest('b');
    expect(chainIds([a, b])).toEqual([a, sha256Digest(`${a} ${b}`)]);
    expect(chainIds([])).toEqual([]);
  });
});
