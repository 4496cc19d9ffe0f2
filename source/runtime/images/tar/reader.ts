/**
 * Streaming tar reader: entries come out as the bytes arrive, file content as slices of the input
 * chunks, so a layer of any size passes through in constant memory.
 */
import { ImageFormatError } from '../../errors.js';
import {
  BLOCK_SIZE,
  HeaderAssembler,
  MAX_META_SIZE,
  META_TYPES,
  decodeRawHeader,
  isZeroBlock,
  paddingFor,
  type TarHeader,
} from './header.js';

export interface TarEntry {
  header: TarHeader;
  /** Byte offset of the entry's header block in the archive. */
  offset: number;
  /**
   * The file content in chunks. Iterate it at most once, before asking for the next entry;
   * whatever is not read is skipped.
   */
  body(): AsyncGenerator<Buffer, void, undefined>;
}

export interface ReadTarOptions {
  /**
   * Read the input to its end after the end-of-archive marker. Layer digests cover the whole
   * stream, trailing blocks included, so a hashing caller needs them to pass through.
   */
  drain?: boolean;
  /** Names the archive in error messages ("layer sha256:..."). */
  label?: string;
}

const EMPTY = Buffer.alloc(0);

/** Pulls exact byte counts out of an async sequence of chunks without copying when it can. */
class ChunkQueue {
  private chunk: Buffer = EMPTY;
  private position = 0;
  private finished = false;
  /** Bytes consumed so far. */
  offset = 0;

  constructor(private readonly iterator: AsyncIterator<Uint8Array>) {}

  private async fill(): Promise<boolean> {
    while (this.position >= this.chunk.length) {
      if (this.finished) return false;
      const next = await this.iterator.next();
      if (next.done) {
        this.finished = true;
        return false;
      }
      const value = next.value;
      this.chunk = Buffer.isBuffer(value)
        ? value
        : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      this.position = 0;
    }
    return true;
  }

  /** Exactly `length` bytes, or fewer when the input ends first. */
  async read(length: number): Promise<Buffer> {
    if (!(await this.fill())) return EMPTY;
    if (this.chunk.length - this.position >= length) {
      const slice = this.chunk.subarray(this.position, this.position + length);
      this.position += length;
      this.offset += length;
      return slice;
    }
    const parts: Buffer[] = [];
    let needed = length;
    while (needed > 0 && (await this.fill())) {
      const take = Math.min(needed, this.chunk.length - this.position);
      parts.push(this.chunk.subarray(this.position, this.position + take));
      this.position += take;
      this.offset += take;
      needed -= take;
    }
    return Buffer.concat(parts);
  }

  /** Up to `length` bytes in the chunks they arrived in; stops early when the input ends. */
  async *take(length: number): AsyncGenerator<Buffer, void, undefined> {
    let remaining = length;
    while (remaining > 0 && (await this.fill())) {
      const take = Math.min(remaining, this.chunk.length - this.position);
      const slice = this.chunk.subarray(this.position, this.position + take);
      this.position += take;
      this.offset += take;
      remaining -= take;
      yield slice;
    }
  }

  /** Skips up to `length` bytes; returns how many were skipped. */
  async skip(length: number): Promise<number> {
    let skipped = 0;
    while (skipped < length && (await this.fill())) {
      const take = Math.min(length - skipped, this.chunk.length - this.position);
      this.position += take;
      this.offset += take;
      skipped += take;
    }
    return skipped;
  }

  async drain(): Promise<void> {
    while (await this.fill()) {
      this.offset += this.chunk.length - this.position;
      this.position = this.chunk.length;
    }
  }
}

function toAsyncIterator(iterator: Iterator<Uint8Array>): AsyncIterator<Uint8Array> {
  return {
    next: async () => iterator.next(),
    return: async () => iterator.return?.() ?? { done: true, value: undefined },
  };
}

function truncated(label: string, what: string, offset: number): ImageFormatError {
  return new ImageFormatError(`truncated tar${label}: the archive ends at byte ${offset}, inside ${what}`, {
    hint: 'the file was cut short (an interrupted download or copy?); get a complete copy',
  });
}

/** Reads the entries of a tar stream. Throws ImageFormatError on damaged or truncated input. */
export async function* readTar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ReadTarOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const label = options.label ? ` (${options.label})` : '';
  const iterator: AsyncIterator<Uint8Array> =
    Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : toAsyncIterator(source[Symbol.iterator]());
  const queue = new ChunkQueue(iterator);
  const assembler = new HeaderAssembler();
  let ended = false;
  try {
    for (;;) {
      const headerOffset = queue.offset;
      const block = await queue.read(BLOCK_SIZE);
      // Like GNU tar and Go, an archive that stops at a header boundary without the
      // end-of-archive blocks is accepted; layer digests catch what that could hide.
      if (block.length === 0) break;
      if (block.length < BLOCK_SIZE) throw truncated(label, 'a header block', queue.offset);
      if (isZeroBlock(block)) {
        const second = await queue.read(BLOCK_SIZE);
        if (second.length === BLOCK_SIZE && !isZeroBlock(second)) {
          throw new ImageFormatError(
            `corrupt tar archive${label}: a zero block in the middle of the archive at byte ${headerOffset}`,
          );
        }
        break;
      }
      const raw = decodeRawHeader(block, headerOffset);
      if (META_TYPES.has(raw.typeflag)) {
        if (raw.size > MAX_META_SIZE) {
          throw new ImageFormatError(
            `corrupt tar archive${label}: a ${raw.size}-byte extended header at byte ${headerOffset}`,
          );
        }
        const data = await queue.read(raw.size);
        if (data.length < raw.size)
          throw truncated(label, `the extended header at byte ${headerOffset}`, queue.offset);
        assembler.addMeta(raw.typeflag, Buffer.from(data), headerOffset);
        const padding = paddingFor(raw.size);
        if ((await queue.skip(padding)) < padding) throw truncated(label, 'padding', queue.offset);
        continue;
      }
      const { header, dataSize } = assembler.finish(raw, headerOffset);
      const dataEnd = queue.offset + dataSize;
      if (header) {
        let consumed = false;
        const entryLabel = `the content of "${header.path}"`;
        const body = async function* (): AsyncGenerator<Buffer, void, undefined> {
          if (consumed) throw new Error(`tar entry "${header.path}" was already read`);
          consumed = true;
          yield* queue.take(dataEnd - queue.offset);
          if (queue.offset < dataEnd) throw truncated(label, entryLabel, queue.offset);
        };
        yield { header, offset: headerOffset, body };
      }
      const remaining = dataEnd - queue.offset;
      if (remaining > 0 && (await queue.skip(remaining)) < remaining) {
        throw truncated(label, header ? `the content of "${header.path}"` : 'an entry', queue.offset);
      }
      const padding = paddingFor(dataSize);
      if (padding > 0 && (await queue.skip(padding)) < padding) {
        throw truncated(label, header ? `the padding after "${header.path}"` : 'padding', queue.offset);
      }
    }
    if (options.drain) await queue.drain();
    ended = true;
  } finally {
    // Stop the source when the consumer gave up early (errors, early return).
    if (!ended) await iterator.return?.();
  }
}
