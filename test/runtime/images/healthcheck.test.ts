/** HEALTHCHECK and ONBUILD as docker's builder writes them into the image config. */
import { describe, expect, it } from 'vitest';
import { parseContainerfile, type Instruction } from '../../../source/runtime/images/build/containerfile.js';
import {
  onBuildTrigger,
  parseGoDuration,
  parseHealthcheck,
} from '../../../source/runtime/images/build/healthcheck.js';

function instruction(text: string): Instruction {
  return parseContainerfile(`FROM scratch\n${text}`).instructions[1] as Instruction;
}

describe('HEALTHCHECK', () => {
  it('parses Go durations into nanoseconds as time.ParseDuration does', () => {
    expect(parseGoDuration('30s')).toBe(30e9);
    expect(parseGoDuration('1m30s')).toBe(90e9);
    expect(parseGoDuration('1.5h')).toBe(5400e9);
    expect(parseGoDuration('500ms')).toBe(5e8);
    expect(parseGoDuration('10us')).toBe(1e4);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('10')).toBeUndefined();
    expect(parseGoDuration('s')).toBeUndefined();
    expect(parseGoDuration('5 s')).toBeUndefined();
  });

  it("writes docker's Healthcheck: CMD-SHELL for the shell form, CMD for the exec form, NONE", () => {
    expect(
      parseHealthcheck(
        instruction(
          'HEALTHCHECK --interval=5m --timeout=3s --start-period=1s --start-interval=500ms --retries=4 CMD curl -f http://localhost/ || exit 1',
        ),
      ),
    ).toEqual({
      Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
      Interval: 300e9,
      Timeout: 3e9,
      StartPeriod: 1e9,
      StartInterval: 5e8,
      Retries: 4,
    });
    expect(parseHealthcheck(instruction('HEALTHCHECK CMD ["/bin/check", "--quick"]'))).toEqual({
      Test: ['CMD', '/bin/check', '--quick'],
    });
    expect(parseHealthcheck(instruction('healthcheck none'))).toEqual({ Test: ['NONE'] });
  });

  it('refuses what docker refuses, saying what is accepted', () => {
    expect(() => parseHealthcheck(instruction('HEALTHCHECK true'))).toThrow(/expects CMD or NONE/);
    expect(() => parseHealthcheck(instruction('HEALTHCHECK --interval=10 CMD true'))).toThrow(
      /--interval=10: not a duration/,
    );
    expect(() => parseHealthcheck(instruction('HEALTHCHECK --timeout=10us CMD true'))).toThrow(
      /cannot be less than 1ms/,
    );
    expect(() => parseHealthcheck(instruction('HEALTHCHECK --retries=-1 CMD true'))).toThrow(/--retries=-1/);
    expect(() => parseHealthcheck(instruction('HEALTHCHECK --retries=1 NONE'))).toThrow(/NONE takes no/);
  });
});

describe('ONBUILD', () => {
  it('stores the trigger with its keyword upper-cased and refuses ONBUILD, FROM and MAINTAINER', () => {
    expect(onBuildTrigger(instruction('ONBUILD run echo hi'))).toBe('RUN echo hi');
    expect(onBuildTrigger(instruction('ONBUILD COPY --chown=1:1 . /app'))).toBe('COPY --chown=1:1 . /app');
    for (const bad of ['ONBUILD ONBUILD RUN true', 'ONBUILD FROM x', 'ONBUILD MAINTAINER me']) {
      expect(() => onBuildTrigger(instruction(bad))).toThrow(/is not allowed/);
    }
  });
});
