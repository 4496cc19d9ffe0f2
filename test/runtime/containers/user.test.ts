import { describe, expect, it } from 'vitest';
import { resolveUser } from '../../../source/runtime/containers/user.js';

const passwd =
  'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n';
const group = 'root:x:0:\nwheel:x:10:app\ndocker:x:999:app,other\napp:x:1000:\nnogroup:x:65534:\n';

describe('user resolution', () => {
  it('resolves names, numbers and groups as docker does', () => {
    expect(resolveUser('', passwd, group)).toEqual({ uid: 0, gid: 0, additionalGids: [], home: '/root' });
    expect(resolveUser('app', passwd, group)).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [10, 999],
      home: '/home/app',
    });
    expect(resolveUser('1000', passwd, group)).toMatchObject({ uid: 1000, gid: 1000, home: '/home/app' });
    expect(resolveUser('4242', passwd, group)).toEqual({ uid: 4242, gid: 0, additionalGids: [], home: '/' });
    expect(resolveUser('app:docker', passwd, group)).toMatchObject({
      uid: 1000,
      gid: 999,
      additionalGids: [],
    });
    expect(resolveUser('12:34', undefined, undefined)).toMatchObject({ uid: 12, gid: 34 });
  });

  it('says which user or group is missing', () => {
    expect(() => resolveUser('ghost', passwd, group)).toThrow(
      'unable to find user ghost: no matching entries in passwd file',
    );
    expect(() => resolveUser('app:ghosts', passwd, group)).toThrow('unable to find group ghosts');
    expect(() => resolveUser('ghost', undefined, undefined)).toThrow('unable to find user ghost');
  });
});
