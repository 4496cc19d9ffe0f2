import { describe, expect, it } from 'vitest';
import { resolveUser } from '../../../source/runtime/containers/user.js';
import { resolveChown } from '../../../source/runtime/images/build/copy.js';
import type { StackView } from '../../../source/runtime/images/diff/stack-view.js';

const passwd =
  'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n';
const group = 'root:x:0:\nwheel:x:10:app\ndocker:x:999:app,other\napp:x:1000:\nnogroup:x:65534:\n';

describe('user resolution', () => {
  it('resolves names, numbers and groups as docker does', () => {
    expect(resolveUser('', passwd, group)).toEqual({ uid: 0, gid: 0, additionalGids: [0], home: '/root' });
    expect(resolveUser('app', passwd, group)).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [1000, 10, 999],
      home: '/home/app',
    });
    expect(resolveUser('1000', passwd, group)).toMatchObject({ uid: 1000, gid: 1000, home: '/home/app' });
    expect(resolveUser('4242', passwd, group)).toEqual({ uid: 4242, gid: 0, additionalGids: [0], home: '/' });
    expect(resolveUser('app:docker', passwd, group)).toMatchObject({
      uid: 1000,
      gid: 999,
      additionalGids: [999],
    });
    expect(resolveUser('12:34', undefined, undefined)).toMatchObject({
      uid: 12,
      gid: 34,
      additionalGids: [34],
    });
    // A group that lists the user and is its primary one appears once.
    expect(resolveUser('app', passwd, `${group}app2:x:1000:app\n`).additionalGids).toEqual([1000, 10, 999]);
  });

  it('says which user or group is missing', () => {
    expect(() => resolveUser('ghost', passwd, group)).toThrow(
      'unable to find user ghost: no matching entries in passwd file',
    );
    expect(() => resolveUser('app:ghosts', passwd, group)).toThrow('unable to find group ghosts');
    expect(() => resolveUser('ghost', undefined, undefined)).toThrow('unable to find user ghost');
    // Split at the first colon, as docker does: the group is "2:3".
    expect(() => resolveUser('1:2:3', passwd, group)).toThrow('unable to find group 2:3');
    expect(() => resolveUser('4294967295', passwd, group)).toThrow('must be below 4294967295');
  });
});

describe('COPY --chown', () => {
  const stack = {
    readFile: (file: string) => (file === '/etc/passwd' ? passwd : file === '/etc/group' ? group : undefined),
  } as unknown as StackView;

  it('resolves names and numbers, the group defaulting to the uid', () => {
    expect(resolveChown('app', stack, 'COPY')).toEqual({ uid: 1000, gid: 1000 });
    expect(resolveChown('55', stack, 'COPY')).toEqual({ uid: 55, gid: 55 });
    expect(resolveChown('app:docker', stack, 'COPY')).toEqual({ uid: 1000, gid: 999 });
    expect(resolveChown('4294967294:0', stack, 'COPY')).toEqual({ uid: 4294967294, gid: 0 });
  });

  it('refuses ids out of range and a group that no group file has', () => {
    expect(() => resolveChown('4294967295', stack, 'COPY')).toThrow(
      'COPY --chown=4294967295: user id 4294967295 is out of range; ids go from 0 to 4294967294',
    );
    expect(() => resolveChown('0:99999999999', stack, 'ADD')).toThrow('ADD --chown=0:99999999999: group id');
    expect(() => resolveChown('1:2:3', stack, 'COPY')).toThrow('no group "2:3"');
    expect(() => resolveChown('app:', stack, 'COPY')).toThrow('expected USER[:GROUP]');
  });
});
