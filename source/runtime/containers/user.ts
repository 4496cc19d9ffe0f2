/**
 * Resolves `-u` / the image's USER the way docker (runc's user package) does: "name", "uid",
 * "name:group", "uid:gid"; names come from the container's /etc/passwd and /etc/group;
 * supplementary groups are the primary one and those listing the user; HOME comes from passwd.
 */
import { GantryError } from '../errors.js';

export class UserLookupError extends GantryError {}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  return (text ?? '')
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length >= 6 && fields[0] && !fields[0].startsWith('#'))
    .map((fields) => ({
      name: fields[0]!,
      uid: Number(fields[2]),
      gid: Number(fields[3]),
      home: fields[5] ?? '/',
    }))
    .filter((entry) => Number.isInteger(entry.uid) && Number.isInteger(entry.gid));
}

function parseGroup(text: string | undefined): GroupEntry[] {
  return (text ?? '')
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length >= 3 && fields[0] && !fields[0].startsWith('#'))
    .map((fields) => ({
      name: fields[0]!,
      gid: Number(fields[2]),
      members: (fields[3] ?? '').split(',').filter(Boolean),
    }))
    .filter((entry) => Number.isInteger(entry.gid));
}

const isNumeric = (value: string) => /^\d+$/.test(value);

export function resolveUser(
  spec: string,
  passwdText: string | undefined,
  groupText: string | undefined,
): ResolvedUser {
  // Split at the first colon only, as docker does: "1:2:3" names the group "2:3", which no
  // group file has.
  const colon = spec.indexOf(':');
  const [userPart, groupPart] =
    spec === ''
      ? ['0', undefined]
      : colon < 0
        ? [spec, undefined]
        : [spec.slice(0, colon), spec.slice(colon + 1)];
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  let entry: PasswdEntry | undefined;
  if (isNumeric(userPart)) {
    entry = passwd.find((p) => p.uid === Number(userPart));
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) {
      throw new UserLookupError(`unable to find user ${userPart}: no matching entries in passwd file`, {
        hint: "give a numeric uid[:gid], or a user that the image's /etc/passwd has",
      });
    }
  }
  const uid = isNumeric(userPart) ? Number(userPart) : entry!.uid;
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (isNumeric(groupPart)) {
      gid = Number(groupPart);
    } else {
      const group = groups.find((g) => g.name === groupPart);
      if (!group)
        throw new UserLookupError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = group.gid;
    }
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe)
    throw new UserLookupError(`uid and gid must be below 4294967295, got ${spec}`);
  // The primary group leads the supplementary ones, as containerd (docker) and podman set them:
  // `id` prints it among the groups, and a process that drops its gid keeps the group's access.
  // Groups that list the user count only when no group was named (runc's rule).
  const members =
    groupPart === undefined && entry
      ? groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid)
      : [];
  const additionalGids = [...new Set([gid, ...members])];
  return { uid, gid, additionalGids, home: entry?.home ?? '/' };
}
