/** `gantry push [OPTIONS] IMAGE [DESTINATION]` (also `gantry image push`). */
import { bool, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { TransferProgress } from '../progress.js';
import { REGISTRY_OPTIONS, transferOptions } from './pull.js';

export const spec: CommandSpec = {
  name: 'push',
  usage: 'push [OPTIONS] IMAGE [DESTINATION]',
  description: 'Upload an image to a registry (to its own name, or to DESTINATION)',
  minArgs: 1,
  maxArgs: 2,
  options: [
    ...REGISTRY_OPTIONS,
    { name: 'quiet', short: 'q', type: 'boolean', description: 'Print only the pushed digest, no progress' },
    { name: 'json', type: 'boolean', description: 'Print the result as JSON, no progress' },
    {
      name: 'compression-format',
      type: 'string',
      placeholder: 'gzip|zstd',
      description:
        'Compress every layer not already in this format (changes the manifest digest); default: plain layers gzip, the rest as stored',
    },
    {
      name: 'compression-level',
      type: 'string',
      placeholder: 'N',
      description: 'Level of the layers compressed by this push (gzip 1-9, zstd 1-19)',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [{ pushImage }, { parseLayerCompression, parseCompressionLevel }] = await Promise.all([
    import('../../runtime/images/registry/push.js'),
    import('../../runtime/images/export/recompress.js'),
  ]);
  const formatText = str(parsed.options, 'compression-format');
  const levelText = str(parsed.options, 'compression-level');
  // A level alone applies to the layers push compresses anyway (gzip, as docker pushes them).
  const format = formatText === undefined ? 'gzip' : parseLayerCompression(formatText);
  const level = levelText === undefined ? undefined : parseCompressionLevel(levelText, format);
  const compression =
    formatText === undefined ? undefined : { format, ...(level !== undefined ? { level } : {}) };
  const options = await transferOptions(parsed, context);
  const quiet = bool(parsed.options, 'quiet') || bool(parsed.options, 'json');
  const engine = await context.engine();
  const progress = quiet ? undefined : new TransferProgress(context.stdout, 'push');
  let result;
  try {
    result = await pushImage(engine.images, parsed.args[0]!, parsed.args[1], {
      ...options,
      ...(compression ? { compression } : {}),
      ...(compression === undefined && level !== undefined ? { defaultLevel: level } : {}),
      onEvent: progress ? (event) => progress.handle(event) : undefined,
    });
  } finally {
    progress?.close();
  }
  if (bool(parsed.options, 'json')) {
    write(
      context.stdout,
      JSON.stringify(
        {
          Reference: result.reference,
          Digest: result.manifestDigest,
          Id: result.imageId,
          Blobs: result.blobs.map((blob) => ({
            Digest: blob.digest,
            Size: blob.size,
            Kind: blob.kind,
            Action: blob.action,
          })),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  if (bool(parsed.options, 'quiet')) {
    write(context.stdout, result.manifestDigest);
    return 0;
  }
  const uploaded = result.blobs.filter((blob) => blob.action === 'uploaded').length;
  write(
    context.stdout,
    `${result.reference}: digest: ${result.manifestDigest} (${uploaded} of ${result.blobs.length} blobs uploaded)`,
  );
  return 0;
}
