// Each command's options are defined once: a zod schema per option with its flag and one line of
// prose. From that single definition come the commander flags, the --help text (defaults
// included), the `--config FILE` keys, and validation with errors in plain words.
import { promises as fs } from 'node:fs';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { UsageError } from './errors';

/** One option of a command. */
export interface OptionDefinition<T extends z.ZodType = z.ZodType> {
  /** commander flag syntax, e.g. `--samples <n>` or `--no-baseline`. */
  flag: string;
  description: string;
  /** Validates the value (from the command line as a string, or from the config file as JSON). */
  schema: T;
  /** Applied when neither the command line nor the config file gives a value; shown in --help. */
  defaultValue?: z.output<T>;
  /** Allowed values, shown in --help and checked by commander. */
  choices?: readonly string[];
}

/** A command's options, keyed by their camelCase name (= the config file key). */
export type OptionDefinitions = Record<string, OptionDefinition>;

/** The validated options of a command: each key typed by its schema. */
export type ResolvedOptions<D extends OptionDefinitions> = {
  [K in keyof D]: D[K] extends OptionDefinition<infer T>
    ? D[K]['defaultValue'] extends undefined
      ? z.output<T> | undefined
      : z.output<T>
    : never;
};

/** Options every command has. */
export interface CommonOptions {
  config?: string;
  json?: boolean;
  quiet?: boolean;
}

/** Adds the definitions' flags plus `--config FILE`, `--json` and `--quiet` to a command. */
export function addOptions(command: Command, definitions: OptionDefinitions): Command {
  // A command may claim `--config` for itself (`bench engine --config NAME`): it then has no
  // config file option.
  const configFile = !('config' in definitions);
  for (const definition of Object.values(definitions)) {
    // The default is applied by resolveOptions (so a config file can override it), not by
    // commander; it is only shown here. A --no-x flag's default is already in its name.
    const shownDefault =
      definition.defaultValue !== undefined && !definition.flag.startsWith('--no-')
        ? ` (default: ${JSON.stringify(definition.defaultValue)})`
        : '';
    const option = new Option(definition.flag, definition.description + shownDefault);
    if (definition.choices) option.choices(definition.choices);
    command.addOption(option);
  }
  if (configFile) {
    command.option(
      '--config <file>',
      'read options from a JSON file (keys as the long flags in camelCase)',
    );
  }
  return command
    .option('--json', 'print one JSON object (or JSON lines) instead of text')
    .option('--quiet', 'print no progress');
}

function plainIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return "unknown option (not one of this command's options; see --help)";
    case 'invalid_type':
      // A schema's own message (e.g. "expected a whole number") says it best.
      if (!issue.message.startsWith('Invalid input')) return issue.message;
      return issue.expected === 'int' ? 'expected a whole number' : `expected ${issue.expected}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message.replace(/^Invalid input: /, '');
  }
}

/**
 * Turns zod issues into one readable line per problem; `origin(path)` says where the value at
 * `path` came from (a flag, or a config file line and key).
 */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  origin: (path: string) => string,
): string {
  // An unknown-keys issue sits on the object; report each key where it is, by name.
  const expanded = issues.flatMap((issue): z.core.$ZodIssue[] =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ ...issue, keys: [key], path: [...issue.path, key] }))
      : [issue],
  );
  return expanded
    .map((issue) => `${origin(issue.path.map(String).join('.'))}: ${plainIssue(issue)}`)
    .join('\n');
}

interface ConfigFile {
  file: string;
  text: string;
  values: Record<string, unknown>;
}

async function readConfigFile(file: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  // Editors on Windows save UTF-8 with a byte-order mark; JSON.parse would reject it.
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new UsageError(`config file ${file}, line 1: expected a JSON object of options`);
  }
  return { file, text, values: values as Record<string, unknown> };
}

/** 1-based line of the first `"key":` in a JSON text, for error messages. */
function lineOfKey(text: string, key: string): number | null {
  const match = new RegExp(`"${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:`).exec(text);
  return match ? text.slice(0, match.index).split('\n').length : null;
}

function longFlag(definition: OptionDefinition): string {
  return definition.flag.split(/[ ,]/)[0];
}

/** The options every command has that a config file may also set. */
const COMMON_CONFIG_KEYS = ['json', 'quiet'] as const;

/**
 * Validates a command's options. Precedence: the command line, then the `--config` file, then
 * the defaults. Throws a UsageError naming the flag, or the config file, line and key, at fault.
 * `common`, when given, receives `json`/`quiet` from the config file unless the command line set
 * them.
 */
export async function resolveOptions<D extends OptionDefinitions>(
  definitions: D,
  command: Command,
  common?: CommonOptions,
): Promise<ResolvedOptions<D>> {
  const given = command.opts<Record<string, unknown> & CommonOptions>();
  const config =
    given.config && !('config' in definitions) ? await readConfigFile(given.config) : null;
  const fromFile = { ...config?.values };
  for (const key of COMMON_CONFIG_KEYS) {
    if (!(key in fromFile) || key in definitions) continue;
    const value = fromFile[key];
    delete fromFile[key];
    if (typeof value !== 'boolean') {
      const line = lineOfKey(config!.text, key);
      throw new UsageError(
        `config file ${config!.file}${line ? `, line ${line}` : ''}, field "${key}": expected true or false`,
      );
    }
    if (common && command.getOptionValueSource(key) !== 'cli') common[key] = value;
  }
  const merged: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  for (const [key, definition] of Object.entries(definitions)) {
    if (command.getOptionValueSource(key) === 'cli') {
      merged[key] = given[key];
      origins[key] = `option ${longFlag(definition)}`;
    } else if (key in fromFile) {
      merged[key] = fromFile[key];
    } else if (definition.defaultValue !== undefined) {
      merged[key] = definition.defaultValue;
      origins[key] = `default of ${longFlag(definition)}`;
    }
  }
  // Keys the command does not know are kept so the strict schema reports them by name.
  for (const key of Object.keys(fromFile)) if (!(key in definitions)) merged[key] = fromFile[key];
  return validateOptionValues(definitions, merged, (issuePath) => {
    const top = issuePath.split('.')[0];
    if (origins[top]) return `${origins[top]}${issuePath.includes('.') ? ` (${issuePath})` : ''}`;
    const line = config && top ? lineOfKey(config.text, top) : null;
    return `config file ${config?.file}${line ? `, line ${line}` : ''}${issuePath ? `, field "${issuePath}"` : ''}`;
  });
}

/**
 * Validates option values against their definitions (unknown keys rejected); `origin(path)`
 * names where a bad value came from. Also used to re-check options recorded in a file.
 */
export function validateOptionValues<D extends OptionDefinitions>(
  definitions: D,
  values: Record<string, unknown>,
  origin: (path: string) => string,
): ResolvedOptions<D> {
  const shape = Object.fromEntries(
    Object.entries(definitions).map(([key, d]) => [key, d.schema.optional()]),
  );
  const result = z.object(shape).strict().safeParse(values);
  if (!result.success) throw new UsageError(describeIssues(result.error.issues, origin));
  return result.data as ResolvedOptions<D>;
}

/** A decimal number as typed on a command line (no hex, no empty string, no `Infinity`). */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/**
 * A number from the command line (a decimal string) or a config file (a JSON number). Nothing
 * else is coerced: `''`, `null`, `true` and `0x10` are errors, not 0, 0, 1 and 16.
 */
function numeric(schema: z.ZodNumber) {
  return z.preprocess(
    (value) => (typeof value === 'string' && DECIMAL.test(value.trim()) ? Number(value) : value),
    schema,
  );
}

/** Schemas shared by several commands. */
export const schemas = {
  positiveInt: numeric(z.number().int('expected a whole number').positive('expected a number > 0')),
  nonNegativeInt: numeric(
    z.number().int('expected a whole number').min(0, 'expected a number >= 0'),
  ),
  probability: numeric(
    z.number().min(0, 'expected a number in [0, 1]').max(1, 'expected a number in [0, 1]'),
  ),
  nonNegative: numeric(z.number().min(0, 'expected a number >= 0')),
  positive: numeric(z.number().positive('expected a number > 0')),
  path: z.string().min(1, 'expected a path'),
};

/** camelCase -> kebab-case, for flags derived from a library's option names. */
export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

// Command-line values arrive as strings; a library schema may expect numbers or booleans.
function fromCommandLineString(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (DECIMAL.test(value.trim())) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
}

/**
 * Option definitions derived from a library's zod object schema (its `.describe()` texts become
 * the help, its defaults the shown defaults), so the CLI does not restate them. `fields` lists
 * which fields to expose; `prefix` namespaces them (`sandbox` -> `--sandbox-timeout-ms`).
 */
export function optionsFromSchema<S extends z.ZodObject>(
  schema: S,
  fields: ReadonlyArray<keyof S['shape'] & string>,
  prefix = '',
): OptionDefinitions {
  const definitions: OptionDefinitions = {};
  for (const field of fields) {
    const fieldSchema = schema.shape[field] as z.ZodType;
    const key = prefix ? `${prefix}${field[0].toUpperCase()}${field.slice(1)}` : field;
    const parsedDefault = fieldSchema.safeParse(undefined);
    const defaultValue = parsedDefault.success ? parsedDefault.data : undefined;
    const isBoolean = typeof defaultValue === 'boolean';
    const flag = isBoolean
      ? defaultValue
        ? `--no-${kebabCase(key)}`
        : `--${kebabCase(key)}`
      : `--${kebabCase(key)} <value>`;
    // Defaults and optionals wrap the schema that knows the allowed values (an enum's options).
    let inner = fieldSchema as unknown as {
      options?: unknown;
      _zod: { def: { innerType?: unknown } };
    };
    while (inner._zod.def.innerType) inner = inner._zod.def.innerType as typeof inner;
    const choices = inner.options;
    definitions[key] = {
      flag,
      description:
        (isBoolean && defaultValue ? '(on by default; this flag turns it off) ' : '') +
        (fieldSchema.description ?? field),
      schema: z.preprocess(fromCommandLineString, fieldSchema),
      defaultValue,
      choices: Array.isArray(choices) ? choices.map(String) : undefined,
    };
  }
  return definitions;
}

/** Picks the values of `prefix`ed keys back out as the library's own option names. */
export function unprefixOptions(
  values: Record<string, unknown>,
  prefix: string,
): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (!key.startsWith(prefix) || key.length === prefix.length || value === undefined) continue;
    const rest = key.slice(prefix.length);
    picked[rest[0].toLowerCase() + rest.slice(1)] = value;
  }
  return picked;
}
