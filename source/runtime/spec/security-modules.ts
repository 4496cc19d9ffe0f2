/**
 * Whether the host runs the Linux security modules a spec can name: AppArmor (a profile for the
 * process) and SELinux (labels for the process and the container's mounts), both applied by the
 * helper. The same tests as runc's apparmor.IsEnabled and go-selinux's GetEnabled, and the form
 * an SELinux context must have.
 */
import fs from 'node:fs';

/** AppArmor is enabled: securityfs shows it, and the module says so. */
export function appArmorEnabled(): boolean {
  try {
    return (
      fs.existsSync('/sys/kernel/security/apparmor') &&
      fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y')
    );
  } catch {
    return false;
  }
}

/** SELinux is enabled (its filesystem is mounted with an enforce switch). */
export function selinuxEnabled(): boolean {
  return fs.existsSync('/sys/fs/selinux/enforce');
}

/**
 * Why `value` cannot be an SELinux context (USER:ROLE:TYPE[:LEVEL], the level itself may hold
 * colons and commas: s0:c1,c2), or undefined. Whether the loaded policy defines it is the kernel's
 * to say, when the helper writes it; this only keeps out what could never be one, and what would
 * break out of the quotes of a context="..." mount option.
 */
export function selinuxContextProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string (an SELinux context USER:ROLE:TYPE[:LEVEL])';
  const shown = JSON.stringify(value);
  if ([...value].some((char) => char <= ' ' || char === '\x7f' || char === '"'))
    return `${shown} has a space, quote or control character; it must be an SELinux context USER:ROLE:TYPE[:LEVEL]`;
  const parts = value.split(':');
  if (
    parts.length < 3 ||
    parts.slice(0, 3).some((part) => part === '') ||
    (parts.length > 3 && parts[3] === '')
  )
    return `${shown} is not an SELinux context; it must be USER:ROLE:TYPE[:LEVEL], e.g. system_u:system_r:container_t:s0:c1,c2`;
  return undefined;
}

/**
 * Whether the loaded SELinux policy defines `context` (user, role, type and level, and that the
 * role may have the type): libselinux's security_check_context, a write to selinuxfs. Undefined
 * when the kernel cannot be asked (no selinuxfs, or the policy does not let us ask): the helper's
 * write of the label then says.
 */
export function selinuxContextValid(context: string): boolean | undefined {
  let fd: number;
  try {
    fd = fs.openSync('/sys/fs/selinux/context', 'r+');
  } catch {
    return undefined;
  }
  try {
    fs.writeSync(fd, `${context}\0`);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EINVAL' ? false : undefined;
  } finally {
    fs.closeSync(fd);
  }
}
