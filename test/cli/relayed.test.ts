/**
 * The table of commands a remote host runs whole (source/cli/relayed.ts), as both ends check it:
 * what is relayed, what is refused (naming the command and the host), which commands get this
 * stdin, and `-o FILE` taken out to be written on this side.
 */
import { describe, expect, it } from 'vitest';
import { relayReadsStdin, relayRefusal, takeOutputFile } from '../../source/cli/relayed.js';

const HOST = 'ssh://root@far';

describe('relayRefusal', () => {
  it('relays the commands and verbs whose words name nothing on this machine', () => {
    for (const argv of [
      ['top', 'c1'],
      ['rename', 'c1', 'c2'],
      ['volume', 'create', 'v'],
      ['network', 'inspect', 'bridge'],
      ['export', '-o', 'x.tar', 'c1'],
      ['load'],
      ['import', '-', 'repo:tag'],
      ['image', 'import', '-m', 'msg', '-'],
      ['kube', 'generate', 'c1'],
      ['system', 'df'],
      ['volume', '--help'],
    ])
      expect({ argv, refusal: relayRefusal(argv, HOST) }).toEqual({ argv, refusal: undefined });
  });

  it('refuses what names a file on this machine, or is not relayed, naming the command and the host', () => {
    const cases: [string[], string][] = [
      [['build', '.'], `'build' does not work on a remote host (--host ${HOST})`],
      [['kube', 'play', 'pod.yaml'], `'kube play' does not work on a remote host (--host ${HOST})`],
      [['system', 'service', '--stdio'], `'system service' does not work on a remote host (--host ${HOST})`],
      [['load', '-i', 'x.tar'], `'load' with a local file does not work on a remote host (--host ${HOST})`],
      [['load', '--input=x.tar'], `'load' with a local file`],
      [['import', 'x.tar', 'repo'], `'import' with a local file`],
      [['image', 'import', 'x.tar'], `'image' with a local file`],
      [['push', '--authfile', 'a.json', 'repo'], `'push' with a local file`],
      [['generate', 'systemd', '--files', 'c1'], `'generate' with a local file`],
      [['logout', 'registry.example'], `'logout' does not work on a remote host`],
      [['connection', 'ls'], `'connection' does not work on a remote host`],
    ];
    for (const [argv, said] of cases) expect(relayRefusal(argv, HOST)).toContain(said);
  });
});

describe('relayReadsStdin', () => {
  it('sends this stdin only to commands that read an archive, or the answer to a prune question, from it', () => {
    expect(relayReadsStdin(['load'])).toBe(true);
    expect(relayReadsStdin(['import', '-'])).toBe(true);
    expect(relayReadsStdin(['image', 'import', '-'])).toBe(true);
    expect(relayReadsStdin(['image', 'prune', '-f'])).toBe(false);
    expect(relayReadsStdin(['top', 'c1'])).toBe(false);
    for (const command of ['system', 'volume', 'network', 'container', 'image']) {
      expect(relayReadsStdin([command, 'prune'])).toBe(true);
      expect(relayReadsStdin([command, 'prune', '--force'])).toBe(false);
    }
    expect(relayReadsStdin(['volume', 'ls'])).toBe(false);
  });
});

describe('takeOutputFile', () => {
  it("takes -o FILE out of export's and save's words, in each of its spellings", () => {
    expect(takeOutputFile(['export', '-o', 'x.tar', 'c1'])).toEqual({
      argv: ['export', 'c1'],
      file: 'x.tar',
    });
    expect(takeOutputFile(['save', '--output', 'x.tar', 'img'])).toEqual({
      argv: ['save', 'img'],
      file: 'x.tar',
    });
    expect(takeOutputFile(['save', '--output=x.tar', 'img'])).toEqual({
      argv: ['save', 'img'],
      file: 'x.tar',
    });
    expect(takeOutputFile(['export', '-ox.tar', 'c1'])).toEqual({ argv: ['export', 'c1'], file: 'x.tar' });
    expect(takeOutputFile(['export', 'c1'])).toEqual({ argv: ['export', 'c1'] });
    // Only for the commands that write a stream: another's -o is its own.
    expect(takeOutputFile(['top', 'c1', '-o', 'pid'])).toEqual({ argv: ['top', 'c1', '-o', 'pid'] });
  });
});
