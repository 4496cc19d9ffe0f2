/**
 * The host's subordinate id files (/etc/subuid, /etc/subgid: `NAME:START:COUNT` lines, shadow's
 * format). `--userns=auto` takes its ranges from the `gantry` entry; when there is none, one is
 * added on first use after every range the files already give out, so no user's ranges are
 * shared. GANTRY_SUBUID_FILE and GANTRY_SUBGID_FILE name other files (tests, or a distribution
 * that keeps them elsewhere).
 */
import fs from 'node:fs';
import path from 'node:path';
import { hasCode, InvalidArgumentError } from '../errors.js';
import { atomicWriteFileSync } from '../fsutil.js';

export const SUBID_NAME = 'gantry';
/** 1024 containers of 65536 ids each. */
export const SUBID_COUNT = 65536 * 1024;
/** Where the first range may start: above every id a regular user or system account has. */
const LOWEST_START = 100000;

export interface SubidRange {
  start: number;
  count: number;
}

export function subidFiles(): { uid: string; gid: string } {
  return {
    uid: process.env.GANTRY_SUBUID_FILE || '/etc/subuid',
    gid: process.env.GANTRY_SUBGID_FILE || '/etc/subgid',
  };
}

interface Entry {
  name: string;
  start: number;
  count: number;
}

function parse(text: string, file: string): Entry[] {
  const entries: Entry[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([^:]+):(\d+):(\d+)$/.exec(line);
    if (!match) {
      throw new InvalidArgumentError(
        `${file} line ${index + 1} is not NAME:START:COUNT: ${JSON.stringify(line)}`,
        {
          hint: `fix the line (see subuid(5)); gantry reads its \`${SUBID_NAME}\` entry there`,
        },
      );
    }
    entries.push({ name: match[1]!, start: Number(match[2]), count: Number(match[3]) });
  }
  return entries;
}

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return '';
    throw error;
  }
}

/**
 * The `gantry` ranges of both files, each added if missing (after every range of both files, so
 * the uid and gid ranges start at the same id on a machine that had none). The caller holds the
 * engine's user namespace lock.
 */
export function ensureSubidRanges(): { uid: SubidRange; gid: SubidRange } {
  const files = subidFiles();
  const texts = { uid: read(files.uid), gid: read(files.gid) };
  const entries = { uid: parse(texts.uid, files.uid), gid: parse(texts.gid, files.gid) };
  const ours = (kind: 'uid' | 'gid') => entries[kind].find((entry) => entry.name === SUBID_NAME);
  const end = Math.max(LOWEST_START, ...[...entries.uid, ...entries.gid].map((e) => e.start + e.count));
  const start = Math.ceil(end / 65536) * 65536;
  const result = {} as { uid: SubidRange; gid: SubidRange };
  for (const kind of ['uid', 'gid'] as const) {
    const found = ours(kind);
    if (found) {
      result[kind] = { start: found.start, count: found.count };
      continue;
    }
    const text = texts[kind];
    const line = `${SUBID_NAME}:${start}:${SUBID_COUNT}\n`;
    fs.mkdirSync(path.dirname(files[kind]), { recursive: true });
    atomicWriteFileSync(
      files[kind],
      `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}`,
      0o644,
    );
    result[kind] = { start, count: SUBID_COUNT };
  }
  return result;
}
