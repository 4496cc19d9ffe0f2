/**
 * gantry-oci speaks as itself and in the spec's terms: its usage and argument errors name
 * `gantry-oci COMMAND`, never the docker-style `gantry COMMAND` whose parser it shares, and its help
 * lists no docker flag names (a driver reading them would call flags runc does not have).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS, usage } from '../../source/cli/oci-commands.js';
import { main } from '../../source/cli/oci.js';

async function run(argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, stderr, stdout };
}

describe('gantry-oci usage', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(Object.values(COMMANDS).filter((spec) => (spec.minArgs ?? 0) > 0))(
    'a missing argument of $name names gantry-oci, in its usage line too',
    async (spec) => {
      const { code, stderr } = await run([spec.name]);
      expect(code).toBe(2);
      expect(stderr).toContain(`"gantry-oci ${spec.name}" requires at least 1 argument`);
      expect(stderr).toContain(`Usage:  gantry-oci ${spec.name} `);
      expect(stderr).not.toMatch(/(^|["'\s])gantry (?!-oci)/m);
      expect(stderr.endsWith('\n')).toBe(true);
    },
  );

  it('lists no docker flag names in its help', async () => {
    const text = [
      usage(),
      ...(await Promise.all(Object.keys(COMMANDS).map(async (name) => (await run([name, '--help'])).stdout))),
    ].join('\n');
    for (const docker of ['--kernel-memory', '--memory-swappiness', '--cpus ', '--rm', '--name', '--network'])
      expect(text).not.toContain(docker);
    expect(text).not.toMatch(/(^|\s)gantry (?!-oci)/m);
  });

  it.each(['checkpoint', 'restore'])(
    '%s is refused with why, even with --help (CRI-O and podman probe `checkpoint --help`)',
    async (name) => {
      for (const argv of [
        [name, '--help'],
        ['--root=/nonexistent', name, '--image-path', '/x', '--work-path', '/y', 'id'],
      ]) {
        const { code, stderr, stdout } = await run(argv);
        expect(code).toBe(1);
        expect(stdout).toBe('');
        expect(stderr).toContain(`gantry-oci: ${name} is not supported: `);
        expect(stderr).toContain('no CRIU support');
        expect(stderr).toMatch(/^hint: /m);
      }
      expect(usage()).toMatch(new RegExp(`^  ${name} +Refused: `, 'm'));
    },
  );
});
