import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/** Where a command writes JSON lines: a file (`--out`) or stdout. */
export interface JsonLinesOutput {
  writeLine(value: unknown): void;
  close(): Promise<void>;
}

/** Opens `file` for JSON lines, or stdout when `file` is undefined. */
export async function openOutput(file: string | undefined): Promise<JsonLinesOutput> {
  if (file === undefined) {
    return {
      writeLine: (value) => void process.stdout.write(JSON.stringify(value) + '\n'),
      close: async () => {},
    };
  }
  const stream: WriteStream = createWriteStream(file);
  await once(stream, 'open');
  return {
    writeLine: (value) => void stream.write(JSON.stringify(value) + '\n'),
    close: async () => {
      stream.end();
      await once(stream, 'finish');
    },
  };
}
