/** Starting a container with the caller's terminal attached (run without -d, start -a). */
import type { ContainerRecord } from '../../runtime/containers/record.js';
import type { Engine } from '../../runtime/containers/engine.js';
import { NotFoundError } from '../../runtime/errors.js';
import type { AttachHandle } from '../../runtime/init/helper.js';
import type { HostEngine } from '../../runtime/remote/host-engine.js';

/**
 * Signals for the session reach this process (Ctrl-C to the group, or a supervisor's kill of
 * this pid alone): each is passed once to the container through the attach helper, which
 * forwards only what its parent sends it (docker's sig-proxy), and this process does not die of
 * them. `attach(handle)` names the helper once it runs; `release()` restores the handlers.
 */
export function proxySignals(): {
  attach(handle: Pick<AttachHandle, 'signal'>): void;
  release(): void;
} {
  let current: Pick<AttachHandle, 'signal'> | undefined;
  const forward = (signal: NodeJS.Signals) => current?.signal(signal);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  for (const signal of signals) process.on(signal, forward);
  return {
    attach: (handle) => (current = handle),
    release: () => {
      for (const signal of signals) process.off(signal, forward);
    },
  };
}

/**
 * -it with a stdin that is no terminal (a pipe): refused in docker's words, and the container just
 * created for it removed on its host.
 */
async function refusedWithoutTerminal(
  engine: Pick<Engine, 'remove'> | Pick<HostEngine, 'remove'>,
  record: ContainerRecord,
  attach: { stdin: boolean; tty: boolean },
): Promise<boolean> {
  if (!attach.tty || !attach.stdin || process.stdin.isTTY) return false;
  await engine.remove(record.Id, { force: true }).catch(() => undefined);
  process.stderr.write('gantry: the input device is not a TTY; use -i without -t to pipe input\n');
  return true;
}

export async function runAttached(
  engine: Engine,
  record: ContainerRecord,
  attach: { stdin: boolean; tty: boolean },
): Promise<number> {
  if (await refusedWithoutTerminal(engine, record, attach)) return 1;
  const proxy = proxySignals();
  try {
    const consoleSize =
      attach.tty && process.stdout.isTTY
        ? { rows: process.stdout.rows, cols: process.stdout.columns }
        : undefined;
    let started;
    try {
      started = await engine.start(record.Id, {
        attach: {
          ...attach,
          // docker's -a: only the streams the container was created to attach.
          stdout: record.Config.AttachStdout,
          stderr: record.Config.AttachStderr,
          ownsCleanup: true,
        },
        ...(consoleSize ? { consoleSize } : {}),
      });
    } catch (error) {
      if (record.HostConfig.AutoRemove)
        await engine.remove(record.Id, { force: true }).catch(() => undefined);
      throw error;
    }
    const handle = started.attached!;
    proxy.attach(handle);
    const code = await handle.exit;
    // The process could not be executed after all (an image of another architecture): the
    // monitor said so on its stderr; the platforms are ours to add.
    if (code === 126 || code === 127) {
      const failure = await engine.execFailure(record).catch(() => undefined);
      if (failure) process.stderr.write(`gantry: ${failure.message}\n`);
    }
    // Record the end now rather than leaving it to the monitor's cleanup command.
    await engine.get(record.Id).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error;
    });
    return code;
  } finally {
    proxy.release();
  }
}

/**
 * runAttached with the container on a remote host: it starts there with its streams relayed over
 * the protocol (-i input, -t a pty there in this terminal's size), and its exit code is this
 * command's. The host records its end and removes it with --rm, as a local run does.
 */
export async function runAttachedRemote(
  engine: HostEngine,
  record: ContainerRecord,
  attach: { stdin: boolean; tty: boolean },
): Promise<number> {
  if (await refusedWithoutTerminal(engine, record, attach)) return 1;
  const { relay, terminalSize } = await import('./relay.js');
  const consoleSize = terminalSize(attach.tty);
  const stream = await engine.startAttached(record.Id, {
    ...attach,
    ...(consoleSize ? { consoleSize } : {}),
  });
  return relay(stream, { interactive: attach.stdin, tty: attach.tty, resizable: consoleSize !== undefined });
}
