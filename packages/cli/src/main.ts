import { CommanderError } from 'commander';
import { EXIT, isInputError } from './errors';
import { createProgram } from './program';

/** Runs the CLI and resolves to its exit code: 0 success, 1 failure of the work, 2 bad usage or input. */
export async function main(argv: readonly string[]): Promise<number> {
  // A reader that goes away (`siked data convert ... | head`) is not a failure of the command.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
    throw error;
  });
  const program = createProgram();
  try {
    await program.parseAsync(argv as string[]);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through exitOverride with exit code 0; commander printed the rest.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    const usage = isInputError(error);
    // Under --json a script reads stderr too: one JSON object, never prose.
    if (argv.includes('--json')) {
      const kind = usage ? 'usage' : 'failure';
      process.stderr.write(`${JSON.stringify({ error: { kind, message } })}\n`);
      return usage ? EXIT.usage : EXIT.failure;
    }
    if (usage) {
      process.stderr.write(`siked: bad input: ${message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`siked: ${message}\n`);
    if (process.env.SIKED_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return EXIT.failure;
  }
}

if (require.main === module) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
