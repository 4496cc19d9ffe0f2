import type { EngineOptions } from '../runtime/paths.js';

export async function runTui(_options: EngineOptions): Promise<number> {
  process.stderr.write('gantry: the terminal UI is not built yet in this version; use the commands (gantry --help)\n');
  return 125;
}
