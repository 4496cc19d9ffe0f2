/** `gantry history IMAGE` (also `gantry image history`): docker's history table. */
import { bool, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { ago, humanSize, table, truncate } from '../format.js';

export const spec: CommandSpec = {
  name: 'history',
  usage: 'history [OPTIONS] IMAGE',
  description:
    'Show the history of an image: the instruction behind each layer and config change, newest first',
  minArgs: 1,
  maxArgs: 1,
  options: [
    { name: 'no-trunc', type: 'boolean', description: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'Only show image IDs' },
    { name: 'json', type: 'boolean', description: 'Print a JSON array' },
  ],
};

/** docker shows the first 45 characters of CREATED BY, on one line. */
const CREATED_BY_WIDTH = 45;

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  const { historyRows } = await import('../../runtime/images/tree/layer-tree.js');
  const image = await engine.images.resolve(parsed.args[0]!);
  const rows = historyRows(image, await engine.images.readConfig(image));
  const full = bool(parsed.options, 'no-trunc');
  const shortId = (id: string): string =>
    id === '<missing>' || full ? id : id.replace(/^sha256:/, '').slice(0, 12);
  if (bool(parsed.options, 'json')) {
    write(
      context.stdout,
      JSON.stringify(
        rows.map((row) => ({
          ID: row.id,
          Created: row.created ?? '',
          CreatedSince: row.created ? ago(row.created) : '',
          CreatedBy: row.createdBy,
          Size: row.size,
          Comment: row.comment,
          EmptyLayer: row.emptyLayer,
          ...(row.layerDigest ? { LayerDigest: row.layerDigest } : {}),
        })),
        null,
        2,
      ),
    );
    return 0;
  }
  if (bool(parsed.options, 'quiet')) {
    for (const row of rows) write(context.stdout, shortId(row.id));
    return 0;
  }
  context.stdout.write(
    table(
      ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'],
      rows.map((row) => {
        const createdBy = row.createdBy.replace(/\s+/g, ' ').trim();
        return [
          shortId(row.id),
          row.created ? ago(row.created) : 'N/A',
          full ? createdBy : truncate(createdBy, CREATED_BY_WIDTH),
          humanSize(row.size),
          row.comment,
        ];
      }),
    ),
  );
  return 0;
}
