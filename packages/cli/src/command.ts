// The one way commands are declared: name, arguments, option definitions and a run function that
// receives validated options. Keeps every command's module down to what is specific to it.
import { Command } from 'commander';
import {
  addOptions,
  resolveOptions,
  type CommonOptions,
  type OptionDefinitions,
  type ResolvedOptions,
} from './options';
import { createProgress, progressMode, type ProgressReporter } from './progress';

/** What a command's run function gets besides its options. */
export interface CommandContext {
  /** `--json`: print machine-readable output only. */
  json: boolean;
  quiet: boolean;
  progress: ProgressReporter;
  /** Writes to stdout (results only; progress and logs go to stderr). */
  print(text: string): void;
  /** Prints `value` as one JSON line. */
  printJson(value: unknown): void;
}

/** A command's declaration. */
export interface CommandSpec<D extends OptionDefinitions> {
  name: string;
  description: string;
  /** commander argument syntax, e.g. `['<run-dir>']`. */
  arguments?: Array<{ syntax: string; description: string }>;
  options: D;
  /** Extra help text shown after the options (examples). */
  examples?: string[];
  run(options: ResolvedOptions<D>, args: string[], context: CommandContext): Promise<void>;
}

function makeContext(common: CommonOptions): CommandContext {
  const progress = createProgress(progressMode(common.quiet));
  return {
    json: common.json === true,
    quiet: common.quiet === true,
    progress,
    print: (text) => void process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
    printJson: (value) => void process.stdout.write(JSON.stringify(value) + '\n'),
  };
}

/** Adds a command declared by `spec` under `parent`. */
export function defineCommand<D extends OptionDefinitions>(
  parent: Command,
  spec: CommandSpec<D>,
): Command {
  const command = parent.command(spec.name).description(spec.description);
  for (const argument of spec.arguments ?? [])
    command.argument(argument.syntax, argument.description);
  addOptions(command, spec.options);
  if (spec.examples?.length) {
    command.addHelpText(
      'after',
      `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}\n`,
    );
  }
  command.action(async (...received: unknown[]) => {
    // commander passes the declared arguments, then the options object, then the command.
    const self = received[received.length - 1] as Command;
    const args = received.slice(0, -2).flat().map(String);
    const common = { ...self.opts<CommonOptions>() };
    const options = await resolveOptions(spec.options, self, common);
    const context = makeContext(common);
    try {
      await spec.run(options, args, context);
    } finally {
      context.progress.close();
    }
  });
  return command;
}
