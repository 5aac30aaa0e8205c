import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };

type TokenizersModule = typeof import('@huggingface/tokenizers', {
  with: { 'resolution-mode': 'import' },
});

/**
 * TypeScript reads @huggingface/tokenizers' types as ESM (the package is `"type": "module"`), but
 * the package also ships a CommonJS build under its `require` export condition, which both Node
 * and jest's CommonJS runtime load synchronously. Loading it lazily keeps module import cheap.
 */
function tokenizersModule(): TokenizersModule {
  return require('@huggingface/tokenizers') as TokenizersModule;
}

/** Texts that Hugging Face tokenizers commonly use as the end-of-sequence token, in the order tried. */
const COMMON_EOS_TOKENS = [
  '<eos>',
  '</s>',
  '<|endoftext|>',
  '<|end_of_text|>',
  '<|im_end|>',
  '<|eot_id|>',
];

/** Which special tokens to use, when the files do not say or say differently than you want. */
export interface TokenizerOptions {
  /** The end-of-sequence token text (default: tokenizer_config.json's `eos_token`, else a common name). */
  eosToken?: string;
  /** The padding token text (default: `pad_token`, else the EOS token: padding is masked anyway). */
  padToken?: string;
  /**
   * Whether sequences start with the beginning-of-sequence token. Default: what `transformers`
   * adds, i.e. the special token the post-processor's template puts first (Llama 3, Gemma), else
   * `bos_token` when tokenizer_config.json sets `add_bos_token: true` (Llama 2), else none (Qwen).
   */
  addBosToken?: boolean;
}

/** The special token a TemplateProcessing post-processor puts before a single sequence, if any. */
function templateBosToken(tokenizerJson: object): string | undefined {
  const find = (processor: unknown): string | undefined => {
    if (processor === null || typeof processor !== 'object') return undefined;
    const p = processor as { type?: string; single?: unknown[]; processors?: unknown[] };
    if (p.type === 'Sequence') {
      for (const inner of p.processors ?? []) {
        const token = find(inner);
        if (token !== undefined) return token;
      }
      return undefined;
    }
    if (p.type !== 'TemplateProcessing' || !Array.isArray(p.single)) return undefined;
    const first = p.single[0] as { SpecialToken?: { id?: unknown } } | undefined;
    const id = first?.SpecialToken?.id;
    return typeof id === 'string' ? id : undefined;
  };
  return find((tokenizerJson as { post_processor?: unknown }).post_processor);
}

function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { content?: unknown }).content === 'string'
  ) {
    return (value as { content: string }).content;
  }
  return undefined;
}

/**
 * A Hugging Face `tokenizer.json` loaded with `@huggingface/tokenizers` (pure TypeScript, the
 * maintained port of the Rust library; its CommonJS build loads under jest). Encoding never adds
 * special tokens: the student adds the EOS id itself where the format needs it.
 */
export class HfTokenizer {
  readonly eosTokenId: number;
  /** The id every prompt and scored text starts with (see TokenizerOptions.addBosToken), if any. */
  readonly bosTokenId: number | undefined;
  /**
   * Whether a space joins the token after it (byte-level BPE, SentencePiece): then a prompt must
   * not end in a space, or training text and sampling prompt would split it differently.
   */
  readonly spaceJoinsNextToken: boolean;
  readonly padTokenId: number;
  readonly vocabSize: number;
  /** The id text outside the vocabulary maps to (WordLevel/WordPiece `unk_token`), if any. */
  readonly unknownTokenId: number | undefined;

  private constructor(
    private readonly tokenizer: Tokenizer,
    tokenizerJson: object,
    eosToken: string,
    padToken: string,
    bosToken: string | undefined,
    source: string,
  ) {
    const eos = tokenizer.token_to_id(eosToken);
    if (eos === undefined)
      throw new Error(
        `${source}: end-of-sequence token ${JSON.stringify(eosToken)} is not in the vocabulary`,
      );
    const pad = tokenizer.token_to_id(padToken);
    if (pad === undefined)
      throw new Error(
        `${source}: padding token ${JSON.stringify(padToken)} is not in the vocabulary`,
      );
    this.eosTokenId = eos;
    this.padTokenId = pad;
    if (bosToken !== undefined) {
      this.bosTokenId = tokenizer.token_to_id(bosToken);
      if (this.bosTokenId === undefined)
        throw new Error(
          `${source}: beginning-of-sequence token ${JSON.stringify(bosToken)} is not in the vocabulary`,
        );
    }
    const modelType = (tokenizerJson as { model?: { type?: unknown } }).model?.type;
    this.spaceJoinsNextToken = modelType === 'BPE' || modelType === 'Unigram';
    this.vocabSize = tokenizer.get_vocab(true).size;
    const unknown = (tokenizerJson as { model?: { unk_token?: unknown } }).model?.unk_token;
    this.unknownTokenId = typeof unknown === 'string' ? tokenizer.token_to_id(unknown) : undefined;
  }

  /**
   * Builds a tokenizer from the parsed `tokenizer.json` (and `tokenizer_config.json` when there
   * is one). `source` names the files in errors.
   */
  static fromJson(
    tokenizerJson: object,
    tokenizerConfig: Record<string, unknown> = {},
    options: TokenizerOptions = {},
    source = '<tokenizer.json>',
  ): HfTokenizer {
    let tokenizer: Tokenizer;
    try {
      tokenizer = new (tokenizersModule().Tokenizer)(tokenizerJson, tokenizerConfig);
    } catch (error) {
      throw new Error(`${source}: not a usable tokenizer.json (${(error as Error).message})`, {
        cause: error,
      });
    }
    const eosToken =
      options.eosToken ??
      tokenText(tokenizerConfig.eos_token) ??
      COMMON_EOS_TOKENS.find((token) => tokenizer.token_to_id(token) !== undefined);
    if (eosToken === undefined) {
      throw new Error(
        `${source}: no end-of-sequence token found; pass eosToken (tried ${COMMON_EOS_TOKENS.join(', ')})`,
      );
    }
    const padToken = options.padToken ?? tokenText(tokenizerConfig.pad_token) ?? eosToken;
    const configBos = tokenText(tokenizerConfig.bos_token);
    const defaultBos =
      templateBosToken(tokenizerJson) ??
      (tokenizerConfig.add_bos_token === true ? configBos : undefined);
    let bosToken: string | undefined;
    if (options.addBosToken === undefined) bosToken = defaultBos;
    else if (options.addBosToken) {
      bosToken = defaultBos ?? configBos;
      if (bosToken === undefined)
        throw new Error(`${source}: addBosToken is set but the tokenizer names no bos_token`);
    }
    return new HfTokenizer(tokenizer, tokenizerJson, eosToken, padToken, bosToken, source);
  }

  /** Loads `tokenizer.json` (a file, or a folder holding it and optionally `tokenizer_config.json`). */
  static async fromFile(fileOrDir: string, options: TokenizerOptions = {}): Promise<HfTokenizer> {
    const isDir = (await fs.stat(fileOrDir)).isDirectory();
    const dir = isDir ? fileOrDir : path.dirname(fileOrDir);
    const file = isDir ? path.join(fileOrDir, 'tokenizer.json') : fileOrDir;
    const json = await readJson(file);
    const configFile = path.join(dir, 'tokenizer_config.json');
    const config = await readJson(configFile).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return {};
      throw error;
    });
    return HfTokenizer.fromJson(json, config as Record<string, unknown>, options, file);
  }

  /**
   * Token ids of a whole sequence as the model sees it: the BOS id (if any), then `text`. A text
   * that already starts with the BOS token (a chat template writes it) does not get a second.
   */
  encodeSequence(text: string): number[] {
    const ids = this.encode(text);
    return this.bosTokenId === undefined || ids[0] === this.bosTokenId
      ? ids
      : [this.bosTokenId, ...ids];
  }

  /**
   * A prompt and the text that will follow it, cut where both training and sampling tokenize
   * alike: with a tokenizer whose spaces join the next token, the prompt's trailing spaces move
   * to the start of the continuation (`"[pot]: "` + `"x = 3"` becomes `"[pot]:"` + `" x = 3"`),
   * so the model never sees a lone space token at the end of a prompt.
   */
  splitPrompt(prompt: string): { prompt: string; carried: string } {
    if (!this.spaceJoinsNextToken) return { prompt, carried: '' };
    const trimmed = prompt.replace(/ +$/, '');
    return { prompt: trimmed, carried: prompt.slice(trimmed.length) };
  }

  /** Token ids of `text`, without special tokens. */
  encode(text: string): number[] {
    const { ids, tokens } = this.tokenizer.encode(text, { add_special_tokens: false });
    // @huggingface/tokenizers 0.2's WordLevel model returns undefined (not unk_token's id) for
    // words outside the vocabulary; map them to the unknown token or fail loudly.
    for (let i = 0; i < ids.length; i += 1) {
      if (ids[i] !== undefined) continue;
      if (this.unknownTokenId === undefined) {
        throw new Error(
          `token ${JSON.stringify(tokens[i])} is not in the vocabulary and the tokenizer has no unknown token`,
        );
      }
      ids[i] = this.unknownTokenId;
    }
    return ids;
  }

  /** Token strings of `text` as the vocabulary spells them. */
  tokens(ids: readonly number[]): string[] {
    return ids.map((id) => this.tokenizer.id_to_token(id) ?? `<id ${id}>`);
  }

  /** Text of `ids`; special tokens (EOS, padding) are dropped. */
  decode(ids: readonly number[]): string {
    // The library rejects an empty list; a generation that stopped at once decodes to ''.
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], { skip_special_tokens: true });
  }
}

async function readJson(file: string): Promise<object> {
  const text = await fs.readFile(file, 'utf8');
  try {
    return JSON.parse(text) as object;
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}
