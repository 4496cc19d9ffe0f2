/**
 * The tests' OpenSSH server on 127.0.0.1: scripts/lib/sshd.mjs (the one the screenshots and the
 * remote bench start too), with its temporary directory named as the tests name what they make,
 * and the reason sshd tests cannot run where openssh-server is missing.
 */
import { SSHD, startSshd as startServer, type SshdOptions, type TestSshd } from '../../scripts/lib/sshd.mjs';
import { testName } from './engine.js';
import { needsFile } from './skip.js';

export { SSHD, type TestSshd };

/** Why sshd tests cannot run here (Debian package openssh-server). */
export function needsSshd(): ReturnType<typeof needsFile> {
  return needsFile([SSHD], 'the OpenSSH server', 'openssh-server');
}

/** `options.netns`: the server (and its clients' ssh) in a network namespace the test made. */
export function startSshd(
  remoteEnv: Record<string, string>,
  options: Pick<SshdOptions, 'netns'> = {},
): Promise<TestSshd> {
  return startServer(remoteEnv, { ...options, tempPrefix: testName('sshd') });
}
