/** docker's "Are you sure you want to continue? [y/N]" of the prune commands, answered on stdin. */
import readline from 'node:readline';
import type { CommandContext } from './context.js';

/** Asks `question` on stdout; true only for y or yes (stdin ending is no). */
export async function confirm(question: string, context: CommandContext): Promise<boolean> {
  context.stdout.write(question);
  const rl = readline.createInterface({ input: process.stdin });
  try {
    const answer = await new Promise<string | undefined>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(undefined));
    });
    return answer !== undefined && /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
