#!/usr/bin/env node
// Regenerates screenshots/*.svg from the real TUI: builds a private state root with real images
// and containers, drives `gantry` in a private tmux server, captures the screen with its colours
// (`tmux capture-pane -e -p`) and renders each capture as an SVG terminal window.
//
//   node scripts/screenshots.mjs            (as root: containers need namespaces and cgroups)
//   GANTRY_SHOTS=hosts node scripts/screenshots.mjs   (only the two-hosts shot)
//
// Everything it makes (state root, containers, cgroups, tmux server) is removed at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { ansiToSvg } from './lib/ansi-svg.mjs';
import { removeEverything } from './lib/cleanup.mjs';
import { startSshd } from './lib/sshd.mjs';
import { startTmux } from './lib/tmux.mjs';

// The containers get gantry's default bridge: in a network namespace of the script's own, so the
// host's interfaces, firewall and sysctls are never touched.
if (process.env.GANTRY_SHOTS_NETNS !== '1') {
  const inner = spawnSync('unshare', ['--net', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, GANTRY_SHOTS_NETNS: '1' },
  });
  process.exit(inner.status ?? 1);
}

const repo = path.resolve(import.meta.dirname, '..');
const gantryBin = path.join(repo, 'bin', 'gantry.js');
const outDir = path.join(repo, 'screenshots');
const suffix = randomBytes(4).toString('hex');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-shots-'));
const cgroupParent = `gantry-test-shots-${suffix}`;
const env = {
  ...process.env,
  GANTRY_ROOT: root,
  GANTRY_CGROUP_PARENT: cgroupParent,
  GANTRY_CONFIG: path.join(root, 'no-config.json'),
};
delete env.NO_COLOR;

const sleep = (ms) => delay(ms);

function gantry(...args) {
  const result = spawnSync(process.execPath, [gantryBin, ...args], { env, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`gantry ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return result.stdout.trim();
}

function sha256(data) {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Writes a blob into an OCI layout and returns its descriptor. */
function writeBlob(layout, mediaType, data) {
  const digest = sha256(data);
  fs.writeFileSync(path.join(layout, 'blobs', 'sha256', digest.slice(7)), data);
  return { mediaType, digest, size: data.length };
}

/** A layer tar from a staging directory (whiteouts are `.wh.NAME` files, as in OCI layers). */
function layerTar(files) {
  const stage = fs.mkdtempSync(path.join(root, 'stage-'));
  for (const [name, content] of Object.entries(files)) {
    const target = path.join(stage, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
  }
  const tar = execFileSync(
    'tar',
    ['-C', stage, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', '-', '.'],
    { maxBuffer: 64 << 20 },
  );
  fs.rmSync(stage, { recursive: true, force: true });
  return tar;
}

/** An image on top of `demo`: two more layers, one of which deletes what the other added (waste). */
function buildWebapp() {
  const layout = path.join(root, 'webapp-layout');
  gantry('image', 'export', '--format', 'oci', 'demo', layout);
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8'));
  const manifestDescriptor = index.manifests[0];
  const manifest = JSON.parse(
    fs.readFileSync(path.join(layout, 'blobs', 'sha256', manifestDescriptor.digest.slice(7)), 'utf8'),
  );
  const config = JSON.parse(
    fs.readFileSync(path.join(layout, 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8'),
  );
  const passwd =
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/app:/bin/sh\n';
  const layers = [
    {
      createdBy: 'COPY app/ /app/ && RUN apk add --no-cache tini',
      files: {
        'app/server.sh': '#!/bin/sh\nwhile true; do echo "GET / 200 $(date +%s)"; sleep 2; done\n',
        'app/static/index.html': `<!doctype html><title>webapp</title>${'<p>hello</p>'.repeat(400)}\n`,
        'app/static/app.js': `console.log('webapp');\n${'// padding\n'.repeat(3000)}`,
        'etc/passwd': passwd,
        'var/cache/apk/APKINDEX.tar.gz': randomBytes(350 * 1024),
        'var/cache/apk/tini.apk': randomBytes(120 * 1024),
      },
    },
    {
      createdBy: 'RUN rm -rf /var/cache/apk/* && echo "env=production" > /app/config',
      files: {
        'var/cache/apk/.wh.APKINDEX.tar.gz': '',
        'var/cache/apk/.wh.tini.apk': '',
        'app/config': 'env=production\n',
      },
    },
  ];
  for (const layer of layers) {
    const tar = layerTar(layer.files);
    manifest.layers.push(writeBlob(layout, 'application/vnd.oci.image.layer.v1.tar', tar));
    config.rootfs.diff_ids.push(sha256(tar));
    config.history = [
      ...(config.history ?? []),
      { created: '2026-01-01T00:00:00Z', created_by: layer.createdBy },
    ];
  }
  config.config = { ...config.config, Cmd: ['/app/server.sh'], WorkingDir: '/app' };
  const configBlob = writeBlob(
    layout,
    'application/vnd.oci.image.config.v1+json',
    Buffer.from(JSON.stringify(config)),
  );
  manifest.config = configBlob;
  const manifestBlob = writeBlob(
    layout,
    'application/vnd.oci.image.manifest.v1+json',
    Buffer.from(JSON.stringify(manifest)),
  );
  index.manifests = [{ ...manifestBlob, annotations: { 'org.opencontainers.image.ref.name': '1.0' } }];
  fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify(index));
  gantry('image', 'import', layout, 'webapp:1.0');
}

async function capture(name, { columns, rows, title, themes = ['dark'] }) {
  const text = tui.capture({ escapes: true });
  for (const theme of themes) {
    const file = path.join(outDir, `${name}${theme === 'dark' ? '' : `-${theme}`}.svg`);
    fs.writeFileSync(file, ansiToSvg(text, { columns, rows, title, theme }));
    console.log(`wrote ${path.relative(repo, file)}`);
  }
}

async function keys(...list) {
  for (const key of list) {
    tui.send(key);
    await sleep(120);
  }
}

/** The TUI in a terminal of its own; one at a time. */
let tui;

function openTui(columns, rows, args = [], extraEnv = {}) {
  tui?.kill();
  tui = startTmux([process.execPath, gantryBin, ...args], {
    env: {
      GANTRY_ROOT: root,
      GANTRY_CGROUP_PARENT: cgroupParent,
      GANTRY_CONFIG: env.GANTRY_CONFIG,
      GANTRY_HOST: '',
      XDG_CONFIG_HOME: path.join(root, 'config'),
      ...extraEnv,
    },
    columns,
    rows,
    label: 'shots',
  });
}

const waitForScreen = (pattern) => tui.waitFor(pattern);

// The "remote" host of the two-hosts shot: a second root behind an sshd of the script's own.
const remoteRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-shots-remote-'));
const remoteParent = `gantry-test-shots-remote-${suffix}`;
const remoteEnv = {
  ...env,
  GANTRY_ROOT: remoteRoot,
  GANTRY_CGROUP_PARENT: remoteParent,
  GANTRY_DEFAULT_NETWORK: 'none',
};
let sshd;

function cleanup() {
  tui?.kill();
  sshd?.stop();
  removeEverything({ gantryBin, env, cgroupParents: [cgroupParent], work: root });
  removeEverything({ gantryBin, env: remoteEnv, cgroupParents: [remoteParent], work: remoteRoot });
}

function remoteGantry(...args) {
  const result = spawnSync(process.execPath, [gantryBin, ...args], { env: remoteEnv, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`gantry ${args.join(' ')} (remote root) failed (${result.status}): ${result.stderr}`);
  return result.stdout.trim();
}

/** This machine and ssh://127.0.0.1 side by side in one TUI (issue 15). */
async function hostsShot() {
  // 127.0.0.1 of the script's own network namespace.
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  if (!gantry('ps', '-aq')) {
    gantry('image', 'from-host', 'demo');
    gantry('run', '-d', '--name', 'web', '--memory', '256m', 'demo', 'sleep', '100000');
    gantry('run', '-d', '--name', 'db', '--memory', '512m', 'demo', 'sleep', '100000');
  }
  remoteGantry('image', 'from-host', 'demo');
  remoteGantry('run', '-d', '--name', 'api', '--memory', '128m', 'demo', 'sleep', '100000');
  remoteGantry('run', '-d', '--name', 'queue', '--pids-limit', '64', 'demo', 'sleep', '100000');
  remoteGantry('run', '-d', '--name', 'cron', 'demo', 'true');
  sshd = await startSshd({
    GANTRY_ROOT: remoteRoot,
    GANTRY_CGROUP_PARENT: remoteParent,
    GANTRY_DEFAULT_NETWORK: 'none',
  });
  openTui(120, 24, ['--host', sshd.url(gantryBin)], sshd.clientEnv);
  await waitForScreen(/127\.0\.0\.1:\d+\s+queue\s.*● running.*\d%/);
  await waitForScreen(/local\s+web\s.*● running.*\d%/);
  await sleep(3000);
  await capture('hosts', {
    columns: 120,
    rows: 24,
    title: 'gantry — this machine and ssh://127.0.0.1 side by side',
  });
  // The Images pane of both hosts: the same image on each is a row of its own.
  await keys('2');
  await waitForScreen(/127\.0\.0\.1:\d+\s+demo:latest/);
  await waitForScreen(/local\s+demo:latest/);
  await sleep(1000);
  await capture('hosts-images', {
    columns: 120,
    rows: 24,
    title: "gantry — both hosts' images",
  });
  tui.send('q');
  await sleep(500);
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('run as root: the screenshots show real containers');
  fs.mkdirSync(outDir, { recursive: true });
  gantry('image', 'from-host', 'demo');
  buildWebapp();
  const loop = 'i=0; while true; do echo "GET /api/items/$i 200 $((i % 7 + 3))ms"; i=$((i+1)); sleep 1; done';
  gantry(
    'run',
    '-d',
    '--name',
    'web',
    '--memory',
    '256m',
    '--cpus',
    '0.5',
    '--pids-limit',
    '64',
    'webapp:1.0',
    'sh',
    '-c',
    loop,
  );
  // A worker that keeps its small CPU quota busy and its memory going up and down: its limits
  // show throttling and a sawtooth against the memory limit.
  const work =
    's=""; while true; do s="$s$(head -c 2000000 /dev/zero | tr "\\0" x)"; [ ${#s} -gt 30000000 ] && s=""; i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; done';
  gantry(
    'run',
    '-d',
    '--name',
    'worker',
    '--memory',
    '64m',
    '--cpus',
    '0.2',
    '--pids-limit',
    '32',
    'demo',
    'sh',
    '-c',
    work,
  );
  gantry(
    'run',
    '-d',
    '--name',
    'cache',
    '--memory',
    '128m',
    'demo',
    'sh',
    '-c',
    'mkdir -p /tmp/c; i=0; while true; do head -c 65536 /dev/urandom > /tmp/c/$((i % 40)); i=$((i+1)); sleep 0.5; done',
  );
  gantry(
    'run',
    '-d',
    '--name',
    'db',
    '--memory',
    '512m',
    '--memory-reservation',
    '256m',
    'demo',
    'sleep',
    '100000',
  );
  gantry('run', '-d', '--name', 'batch', 'demo', 'sh', '-c', 'sleep 100000');
  gantry('run', '-d', '--name', 'frozen', 'demo', 'sleep', '100000');
  gantry('pause', 'frozen');
  gantry('kill', 'batch');
  gantry(
    'exec',
    'web',
    'sh',
    '-c',
    'mkdir -p /app/logs && echo started > /app/logs/access.log && rm /app/static/app.js && echo "debug=true" >> /app/config',
  );
  await sleep(1500);

  // 100x30: the containers pane with live figures.
  openTui(100, 30);
  await waitForScreen(/web\s.*● running.*\d%/);
  // Select web (rows by name: batch, cache, db, frozen, web, worker): its sparklines show below.
  await keys('j', 'j', 'j', 'j');
  await sleep(6000);
  await capture('containers', {
    columns: 100,
    rows: 30,
    title: 'gantry — containers',
    themes: ['dark', 'light'],
  });

  // Limits of the busy worker: gauges and sparklines after some seconds of history.
  await waitForScreen(/worker\s/);
  const screen = tui.capture();
  const rowsBefore = screen.split('\n').findIndex((line) => /^\s*worker\s/.test(line));
  if (rowsBefore < 0) throw new Error('worker row not found');
  await keys('g');
  for (let index = 0; index < rowsBefore - 2; index += 1) await keys('j');
  await keys('Enter');
  await waitForScreen(/Limits of worker/);
  await sleep(30_000);
  await capture('limits', {
    columns: 100,
    rows: 30,
    title: 'gantry — limits of a running container',
    themes: ['dark', 'light'],
  });

  // Editing a limit in place.
  await keys('Enter', 'C-u');
  tui.type('48m');
  await sleep(300);
  await capture('limits-edit', { columns: 100, rows: 30, title: 'gantry — changing a limit' });
  await keys('Escape');

  // Layers of the web container: the image's layers and its live writable layer on top.
  await keys('1', 'g');
  await waitForScreen(/cache\s/);
  const list = tui.capture().split('\n');
  const webRow = list.findIndex((line) => /^\s*web\s/.test(line)) - 2;
  for (let index = 0; index < webRow; index += 1) await keys('j');
  await keys('3');
  await waitForScreen(/efficiency/);
  await capture('layers', { columns: 100, rows: 30, title: 'gantry — layers, efficiency and wasted bytes' });
  // The layer that deleted what the one below added.
  await keys('j', 'Enter');
  await waitForScreen(/Files of layer/);
  await keys('a');
  await waitForScreen(/whole filesystem/);
  await keys('/');
  tui.type('cache');
  await keys('Enter');
  await sleep(500);
  await capture('layer-tree', {
    columns: 100,
    rows: 30,
    title: 'gantry — a layer’s file tree (aggregated, filtered)',
  });
  // The live writable layer, its own changes only.
  await keys('Escape', 'Escape', 'k', 'a', 'Enter');
  await waitForScreen(/Files of layer 4 \(its own changes\)/);
  await sleep(300);
  await capture('live-layer', {
    columns: 100,
    rows: 30,
    title: 'gantry — a running container’s writable layer',
  });

  // Logs with a search, and the help overlay.
  await keys('Escape', '5');
  await waitForScreen(/Logs of web/);
  await sleep(1500);
  await keys('/');
  tui.type('items/1');
  await keys('Enter');
  await sleep(300);
  await capture('logs', { columns: 100, rows: 30, title: 'gantry — logs with search' });
  await keys('Escape', '?');
  await sleep(300);
  await capture('help', { columns: 100, rows: 30, title: 'gantry — keys (from the keymap)' });
  await keys('Escape', 'q');

  // The smallest supported terminal.
  openTui(80, 24);
  await waitForScreen(/web\s.*● running.*\d%/);
  await keys('j', 'j', 'j', 'j');
  await sleep(3000);
  await capture('containers-80x24', { columns: 80, rows: 24, title: 'gantry — 80x24' });
  // The inspect view of the selected container (web): its config, mounts, limits and state.
  await keys('i');
  await waitForScreen(/"Id"/);
  await sleep(500);
  await capture('inspect', { columns: 80, rows: 24, title: 'gantry — inspect' });
  await keys('Escape', 'q');
  await sleep(500);

  // A wide terminal: every column at once.
  openTui(160, 40);
  await waitForScreen(/web\s.*● running.*\d%/);
  await keys('j', 'j', 'j', 'j');
  await sleep(3000);
  await capture('containers-wide', { columns: 160, rows: 40, title: 'gantry — 160x40' });
  tui.send('q');
  await sleep(500);
}

try {
  if (process.env.GANTRY_SHOTS === 'hosts') await hostsShot();
  else {
    await main();
    await hostsShot();
  }
} finally {
  cleanup();
}
