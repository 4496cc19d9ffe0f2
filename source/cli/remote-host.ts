/**
 * --host / GANTRY_HOST: an ssh:// address or a named connection, opened as a
 * RemoteEngine. The remote side's warnings reach this stderr as they would from a local engine.
 */
import { RemoteEngine } from '../runtime/remote/client.js';
import { resolveHost } from '../runtime/remote/connections.js';

export async function connectHost(host: string, stderr: NodeJS.WritableStream): Promise<RemoteEngine> {
  const target = resolveHost(host);
  return RemoteEngine.connect(target, { onStderr: (line) => stderr.write(`${line}\n`) });
}
