/** The Containerfile parser, variable substitution, config instructions and .dockerignore. */
import { describe, expect, it } from 'vitest';
import { stepKey } from '../../../source/runtime/images/build/cache.js';
import {
  ContainerfileError,
  parseChange,
  parseContainerfile,
} from '../../../source/runtime/images/build/containerfile.js';
import { IgnoreMatcher } from '../../../source/runtime/images/build/ignore.js';
import {
  applyMetadata,
  newStageState,
  runEnvironment,
  type MetadataContext,
} from '../../../source/runtime/images/build/metadata.js';
import { expandWord, expandWords } from '../../../source/runtime/images/build/words.js';
import { InvalidArgumentError } from '../../../source/runtime/errors.js';

function context(buildArgs: Record<string, string> = {}): MetadataContext {
  return { escape: '\\', buildArgs: new Map(Object.entries(buildArgs)), usedBuildArgs: new Set() };
}

function apply(lines: string, base = {}, buildArgs: Record<string, string> = {}) {
  const file = parseContainerfile(`FROM scratch\n${lines}`);
  const state = newStageState(base);
  const ctx = context(buildArgs);
  const history = file.instructions.slice(1).map((instruction) => applyMetadata(instruction, state, ctx));
  return { state, history, ctx };
}

describe('parseContainerfile', () => {
  it('reads instructions case-insensitively with their line numbers, flags and JSON forms', () => {
    const file = parseContainerfile(
      [
        '# a comment',
        'from demo AS base',
        '',
        'RUN echo one \\',
        '  # a comment inside the continuation is dropped',
        '    && echo two',
        'COPY --chown=1:2 --chmod=644 a b /dest/',
        'CMD ["sh", "-c", "echo hi"]',
        'ENTRYPOINT [not json',
      ].join('\n'),
    );
    expect(file.instructions.map((instruction) => [instruction.keyword, instruction.line])).toEqual([
      ['FROM', 2],
      ['RUN', 4],
      ['COPY', 7],
      ['CMD', 8],
      ['ENTRYPOINT', 9],
    ]);
    expect(file.instructions[1]!.rest).toBe('echo one     && echo two');
    expect(file.instructions[2]!.flags).toEqual(
      new Map([
        ['chown', '1:2'],
        ['chmod', '644'],
      ]),
    );
    expect(file.instructions[2]!.rest).toBe('a b /dest/');
    expect(file.instructions[3]!.json).toEqual(['sh', '-c', 'echo hi']);
    // Not valid JSON: the shell form, as docker takes it.
    expect(file.instructions[4]!.json).toBeUndefined();
  });

  it('honours the escape directive (backtick continuations, backslashes literal)', () => {
    const file = parseContainerfile('# escape=`\nFROM demo\nRUN dir c:\\ `\n  && echo done');
    expect(file.escape).toBe('`');
    expect(file.instructions[1]!.rest).toBe('dir c:\\   && echo done');
    // After the first instruction a directive is just a comment.
    expect(parseContainerfile('FROM demo\n# escape=`\nRUN a \\\n b').instructions[1]!.rest).toBe('a  b');
  });

  it('names the line of an unknown instruction and lists the accepted ones', () => {
    const error = (() => {
      try {
        parseContainerfile('FROM demo\nRUN true\n\nRUNN false\n', 'Containerfile');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ContainerfileError);
    expect((error as ContainerfileError).line).toBe(4);
    expect((error as Error).message).toBe('Containerfile:4: unknown instruction "RUNN"');
    expect((error as ContainerfileError).hint).toContain('FROM, RUN, COPY');
  });

  it('refuses a file without FROM, an instruction before FROM, and what is not supported', () => {
    expect(() => parseContainerfile('# nothing\nRUN true')).toThrow(
      /Containerfile:2: there is no FROM instruction/,
    );
    expect(() => parseContainerfile('')).toThrow(/there is no FROM instruction/);
    expect(() => parseContainerfile('ENV A=1\nFROM demo')).toThrow(/Containerfile:1: ENV comes before FROM/);
    expect(() => parseContainerfile('ARG BASE=demo\nFROM $BASE')).not.toThrow();
    expect(() => parseContainerfile('FROM a AS one\nFROM b\nCOPY --from=one x y')).not.toThrow();
    expect(
      parseContainerfile('FROM a\nRUN <<-EOF\n\techo $A\n\tEOF\nRUN true').instructions[1]?.heredocs,
    ).toEqual([{ name: 'EOF', content: 'echo $A\n', expand: true }]);
    expect(() => parseContainerfile('FROM a\nCOPY <<EOF /x\nno end')).toThrow(
      /here-document EOF is not terminated/,
    );
    expect(() => parseContainerfile('FROM a\nHEALTHCHECK --interval=5s CMD true')).not.toThrow();
    expect(() => parseContainerfile('FROM a\nHEALTHCHECK --bogus=1 CMD true')).toThrow(
      /HEALTHCHECK does not take the flag --bogus/,
    );
    expect(() => parseContainerfile('FROM a\nCOPY --own=1 a b')).toThrow(/COPY does not take the flag --own/);
    expect(() => parseContainerfile('FROM a\nRUN')).toThrow(/Containerfile:2: RUN needs arguments/);
    expect(() => parseContainerfile('FROM a\nSHELL /bin/bash -c')).toThrow(
      /SHELL must be written as a JSON array/,
    );
    expect(() => parseContainerfile('# escape=x\nFROM a')).toThrow(/invalid escape character/);
  });

  it('parses one --change instruction and refuses the ones commit cannot apply', () => {
    expect(parseChange('ENV A=1', ['ENV']).keyword).toBe('ENV');
    expect(() => parseChange('RUN true', ['ENV', 'CMD'])).toThrow(/RUN cannot be changed by commit/);
    expect(() => parseChange('BOGUS x', ['ENV'])).toThrow(
      /invalid --change "BOGUS x": unknown instruction "BOGUS"/,
    );
  });
});

describe('variable substitution', () => {
  const variables = new Map([
    ['NAME', 'world'],
    ['EMPTY', ''],
    ['SPACED', 'a b'],
  ]);

  it('expands the forms docker supports', () => {
    expect(expandWord('hello $NAME ${NAME}!', variables)).toBe('hello world world!');
    expect(expandWord('${MISSING:-fallback} ${EMPTY:-e} [${EMPTY-unused}] ${MISSING-kept}', variables)).toBe(
      'fallback e [] kept',
    );
    expect(expandWord('${NAME:+set} ${MISSING:+set}|${EMPTY+x}', variables)).toBe('set |x');
    expect(expandWord('${MISSING:-${NAME}}', variables)).toBe('world');
    expect(() => expandWord('${MISSING:?must be set}', variables)).toThrow(/MISSING: must be set/);
    expect(() => expandWord('${NAME/x/y}', variables)).toThrow(InvalidArgumentError);
  });

  it('keeps quotes and escapes as the shell does, and splits words after substitution', () => {
    expect(expandWord(`'$NAME' "$NAME" \\$NAME`, variables)).toBe('$NAME world $NAME');
    expect(expandWords('a "b c" $SPACED "$SPACED" $EMPTY d', variables)).toEqual([
      'a',
      'b c',
      'a',
      'b',
      'a b',
      'd',
    ]);
    expect(expandWords('cost$ 5', variables)).toEqual(['cost$', '5']);
    expect(() => expandWords('"open', variables)).toThrow(/unterminated double quote/);
  });
});

describe('config instructions', () => {
  it('applies ENV (both forms), LABEL, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL', () => {
    const { state, history } = apply(
      [
        'ENV A=1 B="two words" C=$A',
        'ENV LEGACY value with spaces',
        'LABEL org.example.name="demo app" version=1',
        'WORKDIR /srv',
        'WORKDIR app',
        'USER nobody:nogroup',
        'EXPOSE 80 53/udp 8000-8001',
        'VOLUME /data /cache',
        'STOPSIGNAL SIGINT',
      ].join('\n'),
      { Env: ['PATH=/bin', 'A=0'] },
    );
    // Variables in one ENV see the values before it (docker's rule).
    expect(state.config.Env).toEqual(['PATH=/bin', 'A=1', 'B=two words', 'C=0', 'LEGACY=value with spaces']);
    expect(state.config.Labels).toEqual({ 'org.example.name': 'demo app', version: '1' });
    expect(state.config.WorkingDir).toBe('/srv/app');
    expect(state.config.User).toBe('nobody:nogroup');
    expect(Object.keys(state.config.ExposedPorts!)).toEqual(['80/tcp', '53/udp', '8000/tcp', '8001/tcp']);
    expect(Object.keys(state.config.Volumes!)).toEqual(['/data', '/cache']);
    expect(state.config.StopSignal).toBe('SIGINT');
    expect(history[0]).toBe('ENV A=1 B=two words C=0');
    expect(history[4]).toBe('WORKDIR /srv/app');
  });

  it('lets --build-arg override an ARG default; ENV wins over ARG; RUN sees ARGs as environment', () => {
    const { state, ctx } = apply(
      'ARG V=default\nARG W\nARG X=1\nENV X=from-env\nENV SEEN=$V',
      {},
      { V: 'given', UNUSED: 'x' },
    );
    expect(state.config.Env).toEqual(['X=from-env', 'SEEN=given']);
    expect(runEnvironment(state)).toEqual(['V=given']);
    expect([...ctx.usedBuildArgs]).toEqual(['V']);
  });

  it('gives CMD and ENTRYPOINT their shell and exec forms; ENTRYPOINT drops an inherited CMD', () => {
    const inherited = apply('ENTRYPOINT ["/app"]', { Cmd: ['sh'] });
    expect(inherited.state.config.Entrypoint).toEqual(['/app']);
    expect(inherited.state.config.Cmd).toBeUndefined();
    const own = apply('CMD --help\nENTRYPOINT exec /app', { Cmd: ['sh'] });
    expect(own.state.config.Cmd).toEqual(['/bin/sh', '-c', '--help']);
    expect(own.state.config.Entrypoint).toEqual(['/bin/sh', '-c', 'exec /app']);
    const shell = apply('SHELL ["/bin/ash", "-eo", "pipefail", "-c"]\nCMD echo $HOME');
    expect(shell.state.config.Cmd).toEqual(['/bin/ash', '-eo', 'pipefail', '-c', 'echo $HOME']);
  });

  it('refuses bad values with what would be accepted', () => {
    expect(() => apply('EXPOSE 80/icmp')).toThrow(/EXPOSE has an invalid port "80\/icmp"/);
    expect(() => apply('ENV =x')).toThrow(/ENV expects NAME=VALUE pairs/);
    expect(() => apply('ARG 1X=2')).toThrow(/ARG has an invalid name "1X"/);
    expect(() => apply('USER a b')).toThrow(/USER needs one user/);
  });
});

describe('.dockerignore matching', () => {
  const matcher = new IgnoreMatcher([
    '# comment',
    'node_modules',
    '*.log',
    '!important.log',
    'docs/**/*.md',
    '/build/',
    'tmp?',
  ]);

  it('matches docker style: directories cover what is beneath, last match wins, ** spans directories', () => {
    expect(matcher.ignores('node_modules')).toBe(true);
    expect(matcher.ignores('node_modules/pkg/index.js')).toBe(true);
    expect(matcher.ignores('debug.log')).toBe(true);
    expect(matcher.ignores('important.log')).toBe(false);
    expect(matcher.ignores('sub/debug.log')).toBe(false);
    expect(matcher.ignores('docs/a/b/readme.md')).toBe(true);
    expect(matcher.ignores('docs/readme.md')).toBe(true);
    expect(matcher.ignores('build/out.bin')).toBe(true);
    expect(matcher.ignores('tmp1')).toBe(true);
    expect(matcher.ignores('tmp12')).toBe(false);
    expect(matcher.ignores('src/main.ts')).toBe(false);
    expect(matcher.hasExclusions).toBe(true);
  });
});

describe('step cache keys', () => {
  const base = {
    parentChainId: 'sha256:' + 'a'.repeat(64),
    config: { Env: ['A=1'], WorkingDir: '/' },
    args: [] as [string, string][],
    shell: ['/bin/sh', '-c'],
    instruction: 'RUN true',
    platform: 'linux/amd64',
  };

  it('depend on the parent chain, the config, the ARGs, the instruction and the copied content, not on key order', () => {
    const key = stepKey(base);
    expect(stepKey({ ...base, config: { WorkingDir: '/', Env: ['A=1'] } })).toBe(key);
    expect(stepKey({ ...base, parentChainId: 'sha256:' + 'b'.repeat(64) })).not.toBe(key);
    expect(stepKey({ ...base, config: { Env: ['A=2'], WorkingDir: '/' } })).not.toBe(key);
    expect(stepKey({ ...base, args: [['V', '1']] })).not.toBe(key);
    expect(stepKey({ ...base, instruction: 'RUN  true' })).not.toBe(key);
    expect(stepKey({ ...base, contentDigest: 'sha256:1' })).not.toBe(
      stepKey({ ...base, contentDigest: 'sha256:2' }),
    );
  });
});
