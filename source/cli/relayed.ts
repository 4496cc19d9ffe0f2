/**
 * Commands a remote host runs whole (`gantry --host H COMMAND ...` for a command the protocol has
 * no call of its own for): the host's service starts `gantry COMMAND ...` there, against its own
 * root, and relays its output, input, signals and exit code over one channel of the ssh session.
 * A command is relayed only when nothing in it names this machine: a flag or argument that does
 * (a build context, a manifest file, an output file) is refused here, naming the command and the
 * host, or handled here (`-o FILE` of export and save: the stream is written to FILE on this side).
 * Both ends check the same table, so a client cannot make a host run anything else.
 */

/** What a relayed command may be given: its verbs (all when absent), and what is refused. */
interface RelayRule {
  /** The verbs relayed (for commands with verbs); others are refused. */
  verbs?: readonly string[];
  /** The command reads stdin (an archive, or a prune's answer): this side's stdin is sent. */
  stdin?: boolean | ((words: readonly string[]) => boolean);
  /** Words (after the command's name) that name a file on this machine: refused, and what to do instead. */
  refuse?: (words: readonly string[]) => string | undefined;
  /** `-o FILE` is a file on this machine: the relayed stream is written there. */
  outputFile?: boolean;
}

function hasFlag(words: readonly string[], ...flags: string[]): boolean {
  return words.some((word) => flags.some((flag) => word === flag || word.startsWith(`${flag}=`)));
}

/** A prune without -f asks first: its answer comes from this side's stdin. */
function asksFirst(words: readonly string[]): boolean {
  return verbOf(words) === 'prune' && !hasFlag(words, '-f', '--force');
}

export const RELAYED: Record<string, RelayRule> = {
  top: {},
  port: {},
  rename: {},
  diff: {},
  commit: {},
  healthcheck: {},
  history: {},
  tag: {},
  push: {
    refuse: (words) =>
      hasFlag(words, '--authfile')
        ? '--authfile names a file on this machine; the host uses its own credentials file, or give --creds'
        : undefined,
  },
  export: { outputFile: true },
  save: { outputFile: true },
  load: {
    stdin: true,
    refuse: (words) =>
      hasFlag(words, '-i', '--input') ||
      words.some((word) => /^-[a-z]*i/.test(word) && !word.startsWith('--'))
        ? '-i names a file on this machine; give it on stdin: gantry --host HOST load < FILE'
        : undefined,
  },
  import: {
    stdin: true,
    refuse: (words) =>
      words.some((word) => !word.startsWith('-')) && !words.includes('-')
        ? 'the archive is a file on this machine; give it on stdin: gantry --host HOST import - < FILE'
        : undefined,
  },
  info: {},
  generate: {
    refuse: (words) =>
      hasFlag(words, '--files', '-f')
        ? '--files writes the unit files on the host; leave it out and redirect stdout'
        : undefined,
  },
  kube: { verbs: ['generate'] },
  pod: {},
  system: { verbs: ['df', 'prune'], stdin: asksFirst },
  volume: { verbs: ['create', 'inspect', 'rm', 'remove', 'prune'], stdin: asksFirst },
  network: {
    verbs: ['create', 'inspect', 'rm', 'remove', 'connect', 'disconnect', 'prune'],
    stdin: asksFirst,
  },
  image: {
    verbs: ['history', 'prune', 'tag', 'push', 'export', 'import', 'from-host'],
    stdin: (words) => verbOf(words) === 'import' || asksFirst(words),
    refuse: (words) =>
      verbOf(words) === 'import' && !words.includes('-')
        ? 'the archive is a file on this machine; give it on stdin: gantry --host HOST image import - < FILE'
        : verbOf(words) === 'push' && hasFlag(words, '--authfile')
          ? '--authfile names a file on this machine; the host uses its own credentials file'
          : undefined,
    outputFile: true,
  },
  container: { verbs: ['prune'], stdin: asksFirst },
  // Within commands the protocol serves, the options it has no call for (ps --size, events --since).
  ps: {},
  events: {},
};

/** The verb of `COMMAND VERB ...` (its first word that is not a flag), if any. */
export function verbOf(words: readonly string[]): string | undefined {
  return words.find((word) => !word.startsWith('-'));
}

/**
 * Why `argv` (a command and its words) is not relayed to `host`, or undefined when it is: the same
 * check on both ends.
 */
export function relayRefusal(argv: readonly string[], host: string): string | undefined {
  const [name, ...words] = argv;
  const rule = name === undefined ? undefined : RELAYED[name];
  if (name === undefined || !rule) return `'${name ?? ''}' does not work on a remote host (--host ${host})`;
  if (rule.verbs) {
    const verb = verbOf(words);
    if (verb !== undefined && !words.includes('--help') && !rule.verbs.includes(verb))
      return `'${name} ${verb}' does not work on a remote host (--host ${host})`;
  }
  const why = rule.refuse?.(words);
  return why === undefined
    ? undefined
    : `'${name}' with a local file does not work on a remote host (--host ${host}): ${why}`;
}

/** Whether the relayed command reads this side's stdin. */
export function relayReadsStdin(argv: readonly string[]): boolean {
  const [name, ...words] = argv;
  const rule = name === undefined ? undefined : RELAYED[name];
  if (!rule?.stdin) return false;
  return typeof rule.stdin === 'function' ? rule.stdin(words) : true;
}

/**
 * `-o FILE` / `--output FILE` of a command that writes a stream: taken out of the words (the host
 * writes to its stdout) and returned, to be written here.
 */
export function takeOutputFile(argv: readonly string[]): { argv: string[]; file?: string } {
  const [name] = argv;
  if (name === undefined || !RELAYED[name]?.outputFile) return { argv: [...argv] };
  const kept: string[] = [];
  let file: string | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const word = argv[index]!;
    if (word === '--') {
      kept.push(...argv.slice(index));
      break;
    }
    if (word === '-o' || word === '--output') {
      file = argv[index + 1];
      index += 1;
    } else if (word.startsWith('--output=')) file = word.slice('--output='.length);
    else if (/^-o./.test(word)) file = word.slice(2);
    else kept.push(word);
  }
  return file === undefined ? { argv: kept } : { argv: kept, file };
}
