/** `gantry push [OPTIONS] IMAGE [DESTINATION]` (also `gantry image push`). */
import { bool, type CommandSpec, type ParsedArgs } from '../args.js';
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
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const { pushImage } = await import('../../runtime/images/registry/push.js');
  const options = await transferOptions(parsed, context);
  const quiet = bool(parsed.options, 'quiet') || bool(parsed.options, 'json');
  const engine = await context.engine();
  const progress = quiet ? undefined : new TransferProgress(context.stdout, 'push');
  let result;
  try {
    result = await pushImage(engine.images, parsed.args[0]!, parsed.args[1], {
      ...options,
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
