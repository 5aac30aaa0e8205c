import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { UsageError } from '../src/errors';
import {
  addOptions,
  optionsFromSchema,
  resolveOptions,
  schemas,
  unprefixOptions,
} from '../src/options';

const definitions = {
  samples: {
    flag: '--samples <k>',
    description: 'samples',
    schema: schemas.positiveInt,
    defaultValue: 10,
  },
  mode: {
    flag: '--mode <m>',
    description: 'mode',
    schema: z.enum(['a', 'b']),
    choices: ['a', 'b'],
    defaultValue: 'a',
  },
  name: { flag: '--name <n>', description: 'name', schema: z.string() },
};

function parsed(args: string[], defs: Record<string, unknown> = definitions): Command {
  const command = addOptions(
    new Command('t').exitOverride().configureOutput({ writeErr: () => {} }),
    defs as never,
  );
  command.parse(args, { from: 'user' });
  return command;
}

describe('resolveOptions', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'siked-cli-options-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = (text: string) => {
    const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, text);
    return file;
  };

  it('takes the command line over the config file over the defaults', async () => {
    const file = config('{"samples": 4, "mode": "b"}');
    expect(await resolveOptions(definitions, parsed(['--config', file, '--samples', '7']))).toEqual(
      {
        samples: 7,
        mode: 'b',
      },
    );
    expect(await resolveOptions(definitions, parsed([]))).toEqual({ samples: 10, mode: 'a' });
  });

  it('names the flag of a bad command-line value', async () => {
    await expect(resolveOptions(definitions, parsed(['--samples', '0']))).rejects.toThrow(
      'option --samples: expected a number > 0',
    );
  });

  it('names the config file, line and field of a bad or unknown key', async () => {
    const file = config('{\n  "samples": 2.5,\n  "sampels": 3\n}');
    const error = await resolveOptions(definitions, parsed(['--config', file])).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      `config file ${file}, line 2, field "samples": expected a whole number\n` +
        `config file ${file}, line 3, field "sampels": unknown option (not one of this command's options; see --help)`,
    );
  });

  it('coerces nothing silently: empty, null, boolean and hex values are errors', async () => {
    const cases: Array<[string[], string]> = [
      [['--samples', ''], 'option --samples: expected number'],
      [['--samples', '0x10'], 'option --samples: expected number'],
      [['--config', config('{"samples": null}')], 'field "samples": expected number'],
      [['--config', config('{"samples": true}')], 'field "samples": expected number'],
      [['--config', config('{"samples": "12"}')], ''],
    ];
    for (const [args, message] of cases) {
      const outcome = await resolveOptions(definitions, parsed(args)).catch((e: Error) => e);
      if (message === '') expect(outcome).toEqual({ samples: 12, mode: 'a' });
      else expect((outcome as Error).message).toContain(message);
    }
  });

  it('reads a config file with a UTF-8 byte-order mark, and its json/quiet keys', async () => {
    const file = config('\uFEFF{"samples": 3, "json": true, "quiet": false}');
    const common: { json?: boolean; quiet?: boolean } = {};
    expect(await resolveOptions(definitions, parsed(['--config', file]), common)).toEqual({
      samples: 3,
      mode: 'a',
    });
    expect(common).toEqual({ json: true, quiet: false });
    await expect(
      resolveOptions(definitions, parsed(['--config', config('{\n"quiet": "yes"}')]), {}),
    ).rejects.toThrow(/line 2, field "quiet": expected true or false/);
  });

  it('rejects a config file that is not a JSON object', async () => {
    await expect(resolveOptions(definitions, parsed(['--config', config('[1]')]))).rejects.toThrow(
      'expected a JSON object of options',
    );
    await expect(
      resolveOptions(definitions, parsed(['--config', config('{oops')])),
    ).rejects.toThrow('is not valid JSON');
  });
});

describe('optionsFromSchema', () => {
  const library = z.object({
    timeoutMs: z.int().min(1).default(10_000).describe('time limit per program'),
    isolation: z.enum(['auto', 'none']).default('auto').describe('OS isolation'),
    sympy: z.boolean().default(true).describe('preload sympy'),
  });
  const derived = optionsFromSchema(library, ['timeoutMs', 'isolation', 'sympy'], 'sandbox');

  it('derives flags, help, defaults and choices from the library schema', () => {
    expect(derived.sandboxTimeoutMs).toMatchObject({
      flag: '--sandbox-timeout-ms <value>',
      description: 'time limit per program',
      defaultValue: 10_000,
    });
    expect(derived.sandboxIsolation.choices).toEqual(['auto', 'none']);
    expect(derived.sandboxSympy.flag).toBe('--no-sandbox-sympy');
  });

  it('turns command-line strings into the numbers the library expects', async () => {
    const values = await resolveOptions(
      derived,
      parsed(['--sandbox-timeout-ms', '1500', '--no-sandbox-sympy'], derived),
    );
    expect(unprefixOptions(values, 'sandbox')).toEqual({
      timeoutMs: 1500,
      isolation: 'auto',
      sympy: false,
    });
    await expect(
      resolveOptions(derived, parsed(['--sandbox-timeout-ms', '0'], derived)),
    ).rejects.toThrow('option --sandbox-timeout-ms');
  });
});
