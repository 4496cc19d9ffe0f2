/**
 * Containerfile (Dockerfile) syntax: parser directives (`# escape=`, `# syntax=`), comments,
 * line continuations with the escape character, instructions case-insensitively, flags
 * (`--chown=...`), and the JSON (exec) form of the instructions that have one. What an
 * instruction means is applied later (metadata.ts, copy.ts, builder.ts); this only checks the
 * shape, so a bad file is refused with its line number before anything runs.
 */
import { InvalidArgumentError, UnsupportedError } from '../../errors.js';

/** A Containerfile problem, with the file and line it is on. */
export class ContainerfileError extends InvalidArgumentError {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(`${file}:${line}: ${message}`, options);
  }
}

export const INSTRUCTIONS = [
  'FROM',
  'RUN',
  'COPY',
  'ADD',
  'ENV',
  'ARG',
  'WORKDIR',
  'USER',
  'LABEL',
  'EXPOSE',
  'CMD',
  'ENTRYPOINT',
  'VOLUME',
  'STOPSIGNAL',
  'SHELL',
  'MAINTAINER',
  'HEALTHCHECK',
  'ONBUILD',
] as const;

export type Keyword = (typeof INSTRUCTIONS)[number];

/** Instructions that have an exec (JSON array) form. */
const JSON_FORMS = new Set<Keyword>(['RUN', 'CMD', 'ENTRYPOINT', 'COPY', 'ADD', 'SHELL', 'VOLUME']);
/** Instructions that take --flags before their arguments, and the flags each accepts. */
const FLAGS: Partial<Record<Keyword, readonly string[]>> = {
  FROM: ['platform'],
  RUN: ['network', 'mount', 'security'],
  COPY: ['chown', 'chmod', 'from', 'link', 'parents', 'exclude'],
  ADD: ['chown', 'chmod', 'checksum', 'keep-git-dir', 'link', 'exclude'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

export interface Instruction {
  keyword: Keyword;
  /** The arguments as written (continuations joined), flags included. */
  original: string;
  /** The arguments after the flags. */
  rest: string;
  /** --name=value flags ("" for a flag without value). */
  flags: Map<string, string>;
  /** The JSON array of the exec form, when the instruction is written in it. */
  json?: string[];
  /** Line the instruction starts on, 1-based. */
  line: number;
  /** Here-documents (`<<EOF` ... `EOF`) of RUN, COPY and ADD, in the order they are named. */
  heredocs?: Heredoc[];
  /** Every `RUN --mount=...` value (the flag may be repeated; `flags` keeps the last). */
  mounts?: string[];
}

export interface Heredoc {
  name: string;
  /** The lines, each ending in "\n" (leading tabs removed for `<<-`). */
  content: string;
  /** Unquoted marker: variables in the content are substituted (COPY), as BuildKit does. */
  expand: boolean;
}

/** `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`. */
const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2/g;

export interface Containerfile {
  file: string;
  /** The escape character: "\" unless a `# escape=` directive says "`". */
  escape: string;
  instructions: Instruction[];
}

const DIRECTIVE = /^#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*?)\s*$/;

function parseJsonArray(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  } catch {
    // Not JSON: docker then takes it as the shell form.
  }
  return undefined;
}

/** Splits leading `--flag[=value]` words off the arguments. */
function takeFlags(
  keyword: Keyword,
  text: string,
  file: string,
  line: number,
): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  const accepted = FLAGS[keyword];
  // Only these instructions have flags; for the others "--x" is an argument (CMD --help).
  if (!accepted) return { flags, rest: text.trim() };
  let rest = text;
  for (;;) {
    const match = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
    if (!match) break;
    const name = (match[1] as string).toLowerCase();
    if (!accepted.includes(name)) {
      throw new ContainerfileError(file, line, `${keyword} does not take the flag --${name}`, {
        hint: `${keyword} accepts ${accepted.map((flag) => `--${flag}`).join(', ')}`,
      });
    }
    flags.set(name, match[2] ?? '');
    rest = rest.slice(match[0].length);
  }
  return { flags, rest: rest.trim() };
}

/** Parses a Containerfile; `file` names it in errors. Throws ContainerfileError with the line. */
export function parseContainerfile(text: string, file = 'Containerfile'): Containerfile {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let escape = '\\';
  let index = 0;
  // Parser directives: only at the very top, before any comment, blank line or instruction.
  const seen = new Set<string>();
  for (; index < lines.length; index += 1) {
    const match = DIRECTIVE.exec(lines[index] as string);
    if (!match) break;
    const name = (match[1] as string).toLowerCase();
    const value = match[2] as string;
    if (name !== 'escape' && name !== 'syntax' && name !== 'check') break;
    if (seen.has(name))
      throw new ContainerfileError(file, index + 1, `the directive "${name}" is given twice`);
    seen.add(name);
    if (name === 'escape') {
      if (value !== '\\' && value !== '`') {
        throw new ContainerfileError(file, index + 1, `invalid escape character ${JSON.stringify(value)}`, {
          hint: 'the escape directive accepts \\ or `',
        });
      }
      escape = value;
    }
  }
  const continuation = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  const instructions: Instruction[] = [];
  while (index < lines.length) {
    const first = (lines[index] as string).trim();
    const startLine = index + 1;
    index += 1;
    if (first === '' || first.startsWith('#')) continue;
    let logical = first;
    while (continuation.test(logical)) {
      logical = logical.replace(continuation, '');
      // Comment and empty lines inside a continued instruction are dropped, as docker does.
      while (index < lines.length && /^\s*(#.*)?$/.test(lines[index] as string)) index += 1;
      if (index >= lines.length) break;
      // Leading whitespace of a continuation line is kept, as docker keeps it.
      logical += (lines[index] as string).replace(/\s+$/, '');
      index += 1;
    }
    const match = /^(\S+)\s*([\s\S]*)$/.exec(logical) as RegExpExecArray;
    const word = match[1] as string;
    const original = (match[2] as string).trim();
    const keyword = word.toUpperCase() as Keyword;
    if (!(INSTRUCTIONS as readonly string[]).includes(keyword)) {
      throw new ContainerfileError(file, startLine, `unknown instruction "${word}"`, {
        hint: `accepted: ${INSTRUCTIONS.join(', ')}`,
      });
    }
    if (original === '') {
      throw new ContainerfileError(file, startLine, `${keyword} needs arguments`);
    }
    // Here-documents (BuildKit's `<<EOF`): their bodies are the lines that follow the instruction.
    let heredocs: Heredoc[] | undefined;
    if ((keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') && !original.startsWith('[')) {
      for (const marker of original.matchAll(HEREDOC)) {
        const chomp = marker[1] === '-';
        const name = marker[3] as string;
        const body: string[] = [];
        for (;;) {
          if (index >= lines.length) {
            throw new ContainerfileError(file, startLine, `the here-document ${name} is not terminated`, {
              hint: `end it with a line holding only ${name}`,
            });
          }
          const bodyLine = (lines[index] as string).replace(/\r$/, '');
          index += 1;
          const compared = chomp ? bodyLine.replace(/^\t+/, '') : bodyLine;
          if (compared === name) break;
          body.push(compared);
        }
        (heredocs ??= []).push({
          name,
          content: body.map((line) => `${line}\n`).join(''),
          expand: marker[2] === '',
        });
      }
    }
    const { flags, rest } = takeFlags(keyword, original, file, startLine);
    if (rest === '')
      throw new ContainerfileError(file, startLine, `${keyword} needs arguments after its flags`);
    const instruction: Instruction = { keyword, original, rest, flags, line: startLine };
    if (heredocs) instruction.heredocs = heredocs;
    const mounts = [...original.matchAll(/(?:^|\s)--mount=(\S+)/g)].map((match) => match[1] as string);
    if (keyword === 'RUN' && mounts.length > 0) instruction.mounts = mounts;
    if (JSON_FORMS.has(keyword)) {
      const json = parseJsonArray(rest);
      if (json) instruction.json = json;
    }
    instructions.push(instruction);
  }
  validateStructure(instructions, file);
  return { file, escape, instructions };
}

function validateStructure(instructions: readonly Instruction[], file: string): void {
  const from = instructions.findIndex((instruction) => instruction.keyword === 'FROM');
  if (from < 0) {
    throw new ContainerfileError(file, instructions[0]?.line ?? 1, 'there is no FROM instruction', {
      hint: 'a Containerfile starts with FROM IMAGE (or FROM scratch); only ARG may come before it',
    });
  }
  for (const instruction of instructions.slice(0, from)) {
    if (instruction.keyword !== 'ARG') {
      throw new ContainerfileError(file, instruction.line, `${instruction.keyword} comes before FROM`, {
        hint: 'only ARG may come before the first FROM',
      });
    }
  }
  for (const instruction of instructions) {
    if (instruction.keyword === 'SHELL' && !instruction.json) {
      throw new ContainerfileError(file, instruction.line, 'SHELL must be written as a JSON array', {
        hint: 'e.g. SHELL ["/bin/sh", "-c"]',
      });
    }
    for (const flag of ['security'] as const) {
      if (instruction.keyword === 'RUN' && instruction.flags.has(flag)) {
        throw new UnsupportedError(`${file}:${instruction.line}: RUN --${flag} is not supported`);
      }
    }
    for (const flag of ['keep-git-dir', 'parents', 'exclude'] as const) {
      if (instruction.flags.has(flag)) {
        throw new UnsupportedError(
          `${file}:${instruction.line}: ${instruction.keyword} --${flag} is not supported`,
        );
      }
    }
  }
}

/**
 * Parses one instruction given on the command line (`commit --change`): the same syntax, no FROM
 * needed. Only instructions that change the image config are accepted.
 */
export function parseChange(text: string, accepted: readonly Keyword[]): Instruction {
  let parsed: Containerfile;
  try {
    parsed = parseContainerfile(`FROM scratch\n${text}`, '--change');
  } catch (error) {
    if (!(error instanceof ContainerfileError)) throw error;
    throw new InvalidArgumentError(
      `invalid --change ${JSON.stringify(text)}: ${error.message.replace(/^--change:\d+: /, '')}`,
      {
        // The parser lists every Containerfile instruction; commit takes fewer.
        hint: `accepted: ${accepted.join(', ')}`,
        cause: error,
      },
    );
  }
  const instruction = parsed.instructions[1];
  if (!instruction || parsed.instructions.length !== 2) {
    throw new InvalidArgumentError(`invalid --change ${JSON.stringify(text)}: give exactly one instruction`);
  }
  if (!accepted.includes(instruction.keyword)) {
    throw new InvalidArgumentError(
      `invalid --change ${JSON.stringify(text)}: ${instruction.keyword} cannot be changed by commit`,
      {
        hint: `accepted: ${accepted.join(', ')}`,
      },
    );
  }
  instruction.line = 1;
  return instruction;
}
