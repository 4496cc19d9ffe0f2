/**
 * What a container's --security-opt values mean once defaults apply, for the spec and for
 * `inspect`. no-new-privileges is on by default here, where docker leaves it off: a process in
 * the container cannot gain privileges through a setuid-root binary or file capabilities of the
 * image (su, sudo, an old ping), so code running as an unprivileged user inside a container stays
 * unprivileged. Images that need it get `--security-opt no-new-privileges=false`.
 */
import type { HostConfig } from './record.js';

const NO_NEW_PRIVILEGES = /^no-new-privileges(?:[=:](true|false))?$/;

/** no_new_privs: on unless --privileged or no-new-privileges=false (the last one given wins). */
export function noNewPrivileges(host: Pick<HostConfig, 'Privileged' | 'SecurityOpt'>): boolean {
  if (host.Privileged) return false;
  let enabled = true;
  for (const option of host.SecurityOpt ?? []) {
    const match = NO_NEW_PRIVILEGES.exec(option);
    if (match) enabled = match[1] !== 'false';
  }
  return enabled;
}

const APPARMOR = /^apparmor[=:](.+)$/;

/**
 * The AppArmor profile of --security-opt apparmor=PROFILE (the last one given), or undefined:
 * gantry loads no default profile, so "unconfined" (and --privileged) is what runs without one.
 */
export function appArmorProfile(host: Pick<HostConfig, 'SecurityOpt'>): string | undefined {
  let profile: string | undefined;
  for (const option of host.SecurityOpt ?? []) {
    const match = APPARMOR.exec(option);
    if (match) profile = match[1];
  }
  return profile === 'unconfined' ? undefined : profile;
}

/**
 * HostConfig.SecurityOpt as inspect shows it: what was given, with no-new-privileges stated as
 * it is in force (`no-new-privileges` or `no-new-privileges=false`), default or not.
 */
export function effectiveSecurityOptions(host: Pick<HostConfig, 'Privileged' | 'SecurityOpt'>): string[] {
  const given = (host.SecurityOpt ?? []).filter((option) => !NO_NEW_PRIVILEGES.test(option));
  return [...given, noNewPrivileges(host) ? 'no-new-privileges' : 'no-new-privileges=false'];
}
