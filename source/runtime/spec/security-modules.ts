/**
 * Whether the host runs the Linux security modules a spec can name: AppArmor (a profile for the
 * process, which the helper applies) and SELinux (labels, which gantry does not apply). The same
 * tests as runc's apparmor.IsEnabled and go-selinux's GetEnabled.
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
