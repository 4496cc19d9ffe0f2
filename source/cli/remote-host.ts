/**
 * --host / GANTRY_HOST: an ssh:// address or a named connection, opened as a
 * RemoteEngine. The remote side's warnings reach this stderr as they would from a local engine.
 * Commands share one ssh connection per host for a short while (control-path.ts), so the second
 * command of a script pays no ssh handshake.
 */
import { RemoteEngine } from '../runtime/remote/client.js';
import { resolveHost } from '../runtime/remote/connections.js';
import { controlDirectory } from '../runtime/remote/control-path.js';

export async function connectHost(
  host: string,
  stderr: NodeJS.WritableStream,
  root: string,
): Promise<RemoteEngine> {
  const target = resolveHost(host);
  const shared = controlDirectory({ root });
  return RemoteEngine.connect(target, {
    onStderr: (line) => stderr.write(`${line}\n`),
    ...(shared ? { controlDirectory: shared } : {}),
  });
}
