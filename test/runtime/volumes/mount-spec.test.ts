/** The -v, --mount and --tmpfs parsers against docker's documented forms and errors. */
import { describe, expect, it } from 'vitest';
import {
  checkDuplicateDestinations,
  parseMountFlag,
  parseTmpfsFlag,
  parseVolumeFlag,
  parseVolumesFrom,
} from '../../../source/runtime/volumes/mount-spec.js';

describe('-v', () => {
  it('takes binds, named and anonymous volumes with docker modes', () => {
    expect(parseVolumeFlag('/host:/c:ro,z')).toMatchObject({
      Type: 'bind',
      Source: '/host',
      Destination: '/c',
      ReadOnly: true,
      Mode: 'ro,z',
      Relabel: 'z',
      Propagation: 'rprivate',
    });
    expect(parseVolumeFlag('/host:/c:rshared')).toMatchObject({ Propagation: 'rshared', ReadOnly: false });
    expect(parseVolumeFlag('data:/c:Z')).toMatchObject({
      Type: 'volume',
      Name: 'data',
      Relabel: 'Z',
      Mode: 'Z',
    });
    expect(parseVolumeFlag('data:/c:nocopy')).toMatchObject({ NoCopy: true });
    const anonymous = parseVolumeFlag('/c/');
    expect(anonymous).toMatchObject({ Type: 'volume', Destination: '/c', Anonymous: true });
    expect(anonymous.Name).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses what docker refuses', () => {
    expect(() => parseVolumeFlag('/h:/c:ro,rw')).toThrow('invalid mode: ro,rw');
    expect(() => parseVolumeFlag('/h:/c:bogus')).toThrow('invalid mode: bogus');
    expect(() => parseVolumeFlag('/h:/')).toThrow("destination can't be '/'");
    expect(() => parseVolumeFlag('/h:c')).toThrow('mount path must be absolute');
    expect(() => parseVolumeFlag('a:b:c:d')).toThrow('invalid volume specification');
    expect(() => parseVolumeFlag('x:/c')).toThrow('includes invalid characters for a local volume name');
  });
});

describe('--mount', () => {
  it('parses the three types with their options', () => {
    expect(parseMountFlag('type=bind,src=/h,dst=/c,readonly,bind-propagation=rslave').mount).toMatchObject({
      Type: 'bind',
      Source: '/h',
      Destination: '/c',
      ReadOnly: true,
      Propagation: 'rslave',
    });
    expect(parseMountFlag('source=v1,target=/c,volume-nocopy').mount).toMatchObject({
      Type: 'volume',
      Name: 'v1',
      NoCopy: true,
    });
    const tmpfs = parseMountFlag('type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770');
    expect(tmpfs.mount).toMatchObject({ Type: 'tmpfs', Data: 'noexec,nosuid,nodev,size=67108864,mode=1770' });
    expect(tmpfs.hostConfig).toEqual({
      Type: 'tmpfs',
      Source: '',
      Target: '/t',
      TmpfsOptions: { SizeBytes: 67108864, Mode: 0o1770 },
    });
    expect(parseMountFlag('type=bind,source=/h,target=/c,readonly=false').mount.ReadOnly).toBe(false);
  });

  it("gives docker's errors", () => {
    expect(() => parseMountFlag('type=bind,source=/h')).toThrow('target is required');
    expect(() => parseMountFlag('type=volume,target=/c,bind-propagation=rshared')).toThrow(
      "cannot mix 'bind-*' options with mount type 'volume'",
    );
    expect(() => parseMountFlag('type=tmpfs,source=x,target=/c')).toThrow(
      'field Source must not be specified',
    );
    expect(() => parseMountFlag('type=bind,target=/c')).toThrow('field Source must not be empty');
    expect(() => parseMountFlag('type=bind,source=/h,target=/c,foo=bar')).toThrow("unexpected key 'foo'");
    expect(() => parseMountFlag('type=nfs,target=/c')).toThrow('invalid mount type');
    expect(() => parseMountFlag('type=bind,source=/h,target=/c,bind-propagation=wrong')).toThrow(
      'invalid propagation mode: wrong',
    );
  });
});

describe('--tmpfs, --volumes-from and duplicates', () => {
  it('puts docker defaults before the options given', () => {
    expect(parseTmpfsFlag('/run:rw,size=64m,mode=1777')).toMatchObject({
      Type: 'tmpfs',
      Destination: '/run',
      ReadOnly: false,
      Data: 'noexec,nosuid,nodev,size=64m,mode=1777',
    });
    expect(parseTmpfsFlag('/ro:ro').ReadOnly).toBe(true);
    expect(() => parseTmpfsFlag('/run:bogus=1')).toThrow('invalid tmpfs option [bogus=1]');
  });

  it('parses --volumes-from modes and refuses a destination twice', () => {
    expect(parseVolumesFrom('box:ro')).toEqual({ container: 'box', mode: 'ro' });
    expect(parseVolumesFrom('box')).toEqual({ container: 'box', mode: '' });
    expect(() => parseVolumesFrom('box:rx')).toThrow('expected CONTAINER[:ro|:rw]');
    expect(() => checkDuplicateDestinations([parseVolumeFlag('a1:/x'), parseTmpfsFlag('/x')])).toThrow(
      'Duplicate mount point: /x',
    );
  });
});
