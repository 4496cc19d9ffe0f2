/**
 * Runs the Ink app on the alternate screen until `q`: builds the runtime, the store and the
 * keymap. Opening a shell (`e`) unmounts Ink, gives the terminal to the shell, and mounts it again
 * on the same store afterwards. Loaded by run.ts once React's production build is selected.
 */
import { render, type Instance } from 'ink';
import React from 'react';
import type { EngineOptions } from '../runtime/paths.js';
import { App } from './App.js';
import { configReport, loadConfig } from './config.js';
import { TuiProvider } from './context.js';
import { createEffectRunner, type EffectHost } from './effects.js';
import { adaptEngine, type TuiEngine } from './engine-adapter.js';
import { EngineLayerTreeSource } from './layers/engine-layer-tree-source.js';
import { hostOf, LOCAL_HOST } from './hosts/keys.js';
import type { RemoteHostSpec } from './hosts/remote-host.js';
import { describeError } from './state/limit-definitions.js';
import { initialState } from './state/reducer.js';
import { createStore } from './state/store.js';
import {
  clearScreen,
  copyToClipboard,
  enterAlternateScreen,
  hasAlternateScreen,
  leaveAlternateScreen,
  releaseInput,
  resumeInput,
} from './terminal.js';
import { createTheme } from './theme.js';
import { asciiOutput, isUtf8Locale } from './ascii.js';
import { constants as osConstants } from 'node:os';

export interface TuiIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/**
 * The pace of frames. What data sources dispatch (samples, events, log lines) is drawn at most 20
 * times a second: the store holds the rest of a burst back (see state/store.ts). A key is drawn at
 * once, so Ink's own cap only merges commits of the same moment: at Ink's 20 fps a key pressed
 * within 50 ms of a sample's frame waited for the end of that window.
 * (Ink's incremental rendering left stale rows when the frame's content shifted; whole frames
 * are written instead, inside synchronized-update markers where the terminal supports them.)
 */
const BACKGROUND_FRAME_MS = 50;
const MAX_FPS = 1000;

/** The container's bash if it has one (better line editing), else sh. */
async function shellFor(engine: TuiEngine, id: string): Promise<string> {
  const record = await engine.get(id);
  if (record.State.Pid <= 0) return '/bin/sh';
  // Looked up inside the container's root: its /bin/bash may be a symlink to a host path, which
  // a plain stat of /proc/PID/root/bin/bash would follow on the host.
  const { closeSync } = await import('node:fs');
  const { openInRoot, openRoot } = await import('../runtime/in-root.js');
  const { O_PATH } = await import('../runtime/sys/libc.js');
  let root: number | undefined;
  try {
    root = openRoot(`/proc/${record.State.Pid}/root`);
    closeSync(openInRoot(root, '/bin/bash', O_PATH));
    return '/bin/bash';
  } catch {
    return '/bin/sh';
  } finally {
    if (root !== undefined) closeSync(root);
  }
}

/**
 * The remote hosts as the TUI names them (a connection by its name, an address by host[:port])
 * and how each is reached: one ssh connection each, kept open.
 */
async function remoteHosts(
  given: readonly string[],
  report: (text: string) => void,
): Promise<RemoteHostSpec[]> {
  if (given.length === 0) return [];
  const [{ resolveHost }, { RemoteEngine }] = await Promise.all([
    import('../runtime/remote/connections.js'),
    import('../runtime/remote/client.js'),
  ]);
  const targets = given.map((value) => ({ value, target: resolveHost(value) }));
  const short = targets.map(({ value, target }) =>
    value.includes('://') ? `${target.host}${target.port ? `:${target.port}` : ''}` : value,
  );
  return targets.map(({ value, target }, index) => {
    const name = short.indexOf(short[index]!) === short.lastIndexOf(short[index]!) ? short[index]! : value;
    return {
      name,
      connect: async () => {
        const engine = await RemoteEngine.connect(target, {
          onStderr: (line) => report(`${name}: ${line}`),
        });
        return { engine, ended: engine.connection.ended };
      },
    };
  });
}

/** A remote container's shell: bash if it has one, found by its own sh (no local /proc to look in). */
const REMOTE_SHELL = ['/bin/sh', '-c', 'if [ -x /bin/bash ]; then exec /bin/bash; fi; exec /bin/sh'];

export async function startTui(
  options: EngineOptions,
  io: TuiIo,
  hostNames: readonly string[] = [],
): Promise<number> {
  const { stdin, stdout, stderr, env } = io;
  // A terminal that went away (tmux killed, ssh dropped) fails writes with EIO: quit quietly.
  const onOutputError = () => quit();
  stdout.on('error', onOutputError);
  const config = loadConfig(env);
  const theme = createTheme(config.theme, env);
  // What the terminal can do, from its name and the locale: no alternate screen on a dumb one,
  // ASCII only where the locale is not UTF-8 (LANG=C).
  const alternate = hasAlternateScreen(env);
  const restoreOutput = isUtf8Locale(env) ? () => undefined : asciiOutput(stdout);
  const store = createStore(
    initialState({ columns: stdout.columns || 80, rows: stdout.rows || 24 }),
    undefined,
    { backgroundIntervalMs: BACKGROUND_FRAME_MS },
  );
  const report = (text: string) =>
    store.dispatch({ type: 'ui/status', text, level: 'error', time: Date.now() });
  const { Engine } = await import('../runtime/containers/engine.js');
  // What the CLI prints as a warning (a damaged image record skipped, a killed operation that
  // could not be finished) goes to the status line: stderr would tear the screen.
  const localEngine = adaptEngine(
    new Engine({ ...options, warn: (message, hint) => report(hint ? `${message}: ${hint}` : message) }),
  );
  const remotes = await remoteHosts(hostNames, report);
  const engine: TuiEngine =
    remotes.length === 0
      ? localEngine
      : new (await import('./hosts/multi-host-engine.js')).MultiHostEngine(localEngine, remotes, {
          stdin,
          stdout,
        });
  engine.hosts?.start();
  const problems = configReport(config);
  if (problems) report(problems);
  const layerSource = new EngineLayerTreeSource(engine);

  // GANTRY_TUI_RENDER_LOG=FILE records each frame (time, ms) for performance work.
  const renderLogFile = env.GANTRY_TUI_RENDER_LOG;
  const renderLog: string[] | undefined = renderLogFile ? [] : undefined;
  let instance: Instance | undefined;
  let quit: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (quit = resolve));

  const mount = () => {
    instance = render(
      <TuiProvider
        store={store}
        engine={engine}
        keymap={config.keymap}
        theme={theme}
        layerSource={layerSource}
        runEffect={runEffect}
        statsIntervalMs={config.statsIntervalMs}
      >
        <App />
      </TuiProvider>,
      {
        stdin,
        stdout,
        stderr,
        exitOnCtrlC: false,
        patchConsole: false,
        maxFps: MAX_FPS,
        ...(renderLog
          ? {
              onRender: (metrics: { renderTime: number }) =>
                renderLog.push(`${Date.now()} ${metrics.renderTime.toFixed(2)}`),
            }
          : {}),
        incrementalRendering: false,
      },
    );
  };
  const unmount = async () => {
    const current = instance;
    instance = undefined;
    if (!current) return;
    current.unmount();
    await current.waitUntilExit().catch(() => undefined);
  };

  let shellOpen = false;
  const host: EffectHost = {
    quit: () => quit(),
    copy: (text) => copyToClipboard(stdout, env, text),
    openShell: async (id, name) => {
      const remote = hostOf(id) !== LOCAL_HOST;
      const shell = remote ? 'a shell' : await shellFor(engine, id);
      // What the status line said belongs to before the shell.
      store.dispatch({ type: 'ui/clearStatus' });
      await unmount();
      releaseInput(stdin);
      if (alternate) leaveAlternateScreen(stdout);
      // The shell starts on a clean screen, not below the output of earlier sessions.
      clearScreen(stdout);
      stdout.write(`gantry: ${shell} in ${name}; exit the shell to return to gantry\r\n`);
      const ignore = () => undefined;
      const signals: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGTSTP'];
      for (const signal of signals) process.on(signal, ignore);
      // Ctrl+C in the shell reaches this process too (same terminal): it is the shell's.
      shellOpen = true;
      try {
        const session = await engine.exec(id, {
          command: remote ? REMOTE_SHELL : [shell],
          tty: true,
          interactive: true,
        });
        const code = await session.exit;
        if (code !== 0 && code !== 130)
          store.dispatch({
            type: 'ui/status',
            text: `the shell in ${name} ended with status ${code}`,
            level: 'info',
            time: Date.now(),
          });
      } finally {
        shellOpen = false;
        for (const signal of signals) process.off(signal, ignore);
        resumeInput(stdin);
        if (alternate) enterAlternateScreen(stdout);
        mount();
      }
    },
  };
  const runEffect = createEffectRunner(store, engine, host);

  // Whatever goes wrong outside a render (a rejected promise in a data source) is reported, not fatal.
  const onError = (error: unknown) => report(describeError(error));
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  // A signal ends the TUI the way q does, so the terminal is given back as it was (normal screen,
  // cursor, cooked mode); the status says which signal (128 + its number, as a shell would).
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signal === 'SIGINT' && shellOpen) return;
    signalled ??= signal;
    quit();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  // Ink redraws on resize, but lines the terminal re-wrapped would stay: start from a clean screen.
  const onResize = () => {
    clearScreen(stdout);
    instance?.clear();
  };
  stdout.on('resize', onResize);

  if (alternate) enterAlternateScreen(stdout);
  try {
    mount();
    await finished;
    await unmount();
  } finally {
    stdout.off('resize', onResize);
    process.off('unhandledRejection', onError);
    process.off('uncaughtException', onError);
    for (const signal of signals) process.off(signal, onSignal);
    engine.hosts?.close();
    if (alternate) leaveAlternateScreen(stdout);
    restoreOutput();
    stdout.off('error', onOutputError);
  }
  if (renderLogFile && renderLog)
    (await import('node:fs')).writeFileSync(renderLogFile, `${renderLog.join('\n')}\n`);
  // The watchers are closed by unmounting; stdin is the one handle left to let go.
  releaseInput(stdin);
  stdin.unref();
  return signalled ? 128 + (osConstants.signals[signalled] ?? 0) : 0;
}
