// A word-level tokenizer for the synthetic world, saved as a Hugging Face tokenizer.json.
//
// Design: spaces become a marker `▁` glued to the END of the piece before them, and the
// pre-tokenizer cuts text into words, single digits and single punctuation marks, each optionally
// carrying that marker; newlines are tokens of their own. Decoding turns markers back into
// spaces and concatenates, so decode(encode(text)) === text for every text whose pieces are in
// the vocabulary -- program-of-thought code comes back byte for byte and runs.
//
// Why trailing markers: prompts end in a space ("A: ", or "A: [cot]: " when a strategy is
// forced), and the target starts right after it. With the space on the piece BEFORE it, cutting a
// text at a space never changes its tokens, so a prompt tokenised alone ends exactly as it does
// inside a training sequence. (With SentencePiece-style leading markers the forced prompt would
// end in a lone `▁` that training never shows before the solution's first word.)
//
// Digits are one token each, so a number is spelled digit by digit: the model must compute CoT
// arithmetic on digits, while a PoT program only copies them.

/** Marks "a space follows this piece". */
export const SPACE_MARKER = '\u2581';

/** The special tokens, with fixed ids 0, 1, 2. */
export const SPECIAL_TOKENS = { pad: '<pad>', eos: '<eos>', unk: '<unk>' } as const;

/** Strategy tags kept as single tokens, so choosing a strategy is one prediction. */
export const STRATEGY_TAG_TOKENS = ['[cot]', '[l2m]', '[pot]'] as const;

/**
 * The pre-tokenizer pattern (Hugging Face `Split`, behaviour `Isolated`): a word, one digit, or
 * one other character, each followed by an optional space marker; or a newline; or a lone
 * marker (a second space). Every character of a normalised text is in exactly one piece.
 */
export const PRE_TOKENIZER_PATTERN = `(?:[A-Za-z]+|[0-9]|[^A-Za-z0-9${SPACE_MARKER}\\n])${SPACE_MARKER}?|\\n|${SPACE_MARKER}`;

/** Python words the PoT programs (and students writing them) may use. */
const PYTHON_WORDS = [
  'answer',
  'ans',
  'import',
  'from',
  'as',
  'def',
  'return',
  'for',
  'in',
  'range',
  'if',
  'else',
  'and',
  'or',
  'not',
  'None',
  'True',
  'False',
  'print',
  'int',
  'float',
  'round',
  'sum',
  'min',
  'max',
  'abs',
  'math',
  'sympy',
  'Symbol',
  'Eq',
  'solve',
  'x',
];

/** A token of the Hugging Face `added_tokens` list. */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** The tokenizer.json this module writes (the Hugging Face `tokenizers` serialisation). */
export interface WordLevelTokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: AddedTokenJson[];
  normalizer: { type: 'Replace'; pattern: { String: string }; content: string };
  pre_tokenizer: { type: 'Split'; pattern: { Regex: string }; behavior: 'Isolated'; invert: false };
  post_processor: null;
  decoder: {
    type: 'Sequence';
    decoders: [{ type: 'Replace'; pattern: { String: string }; content: string }, { type: 'Fuse' }];
  };
  model: { type: 'WordLevel'; vocab: Record<string, number>; unk_token: string };
}

/** Options of {@link buildWordLevelTokenizer}. */
export interface BuildTokenizerOptions {
  /** Corpus pieces seen fewer times are left out (they encode as `<unk>`). Default 1. */
  minFrequency?: number;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const ADDED_TOKENS: readonly string[] = [
  SPECIAL_TOKENS.pad,
  SPECIAL_TOKENS.eos,
  SPECIAL_TOKENS.unk,
  ...STRATEGY_TAG_TOKENS,
];
const ADDED_TOKEN_PATTERN = new RegExp(
  `(${ADDED_TOKENS.slice()
    .sort((a, b) => b.length - a.length)
    .map(escapeRegex)
    .join('|')})`,
);
const PIECE_PATTERN = new RegExp(PRE_TOKENIZER_PATTERN, 'gu');

/**
 * Cuts a text into tokens the way tokenizer.json does: added tokens first (matched verbatim),
 * then spaces to markers, then the pre-tokenizer pattern.
 */
export function splitIntoPieces(text: string): string[] {
  const pieces: string[] = [];
  for (const segment of text.split(ADDED_TOKEN_PATTERN)) {
    if (segment === '') continue;
    if (ADDED_TOKENS.includes(segment)) {
      pieces.push(segment);
      continue;
    }
    const normalized = segment.replaceAll(' ', SPACE_MARKER);
    for (const match of normalized.matchAll(PIECE_PATTERN)) pieces.push(match[0]);
  }
  return pieces;
}

/** Pieces every tokenizer of the world has, whatever the corpus: digits, punctuation, Python words. */
function basePieces(): string[] {
  const pieces = ['\n', SPACE_MARKER];
  for (let code = 33; code < 127; code++) {
    const char = String.fromCharCode(code);
    if (/[A-Za-z]/.test(char)) continue;
    pieces.push(char, char + SPACE_MARKER);
  }
  for (const word of PYTHON_WORDS) pieces.push(word, word + SPACE_MARKER);
  return pieces;
}

/**
 * Builds a word-level tokenizer from the world's texts (questions, solutions of every strategy,
 * prompt templates). Ids: `<pad>` 0, `<eos>` 1, `<unk>` 2, the strategy tags 3-5, then the base
 * pieces (digits, punctuation, Python words), then corpus pieces by falling frequency (ties in
 * code-point order), then the other form (with/without the space marker) of every corpus word,
 * so the same corpus always gives the same ids.
 */
export function buildWordLevelTokenizer(
  texts: Iterable<string>,
  options: BuildTokenizerOptions = {},
): WordLevelTokenizerJson {
  const minFrequency = options.minFrequency ?? 1;
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of splitIntoPieces(text)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  }
  const vocab: Record<string, number> = {};
  const addPiece = (piece: string) => {
    if (!(piece in vocab)) vocab[piece] = Object.keys(vocab).length;
  };
  ADDED_TOKENS.forEach(addPiece);
  basePieces().forEach(addPiece);
  const byFrequency = (a: [string, number], b: [string, number]) =>
    b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  const kept = [...counts.entries()].filter(
    ([piece, count]) => count >= minFrequency && !(piece in vocab),
  );
  kept.sort(byFrequency).forEach(([piece]) => addPiece(piece));
  // Every word also in its other form (with or without the space marker), so a word decodes and
  // re-encodes wherever it stands: before a space, a newline or a punctuation mark.
  kept
    .filter(([piece]) => /[A-Za-z]/.test(piece))
    .map(([piece, count]): [string, number] => [
      piece.endsWith(SPACE_MARKER) ? piece.slice(0, -1) : piece + SPACE_MARKER,
      count,
    ])
    .sort(byFrequency)
    .forEach(([piece]) => addPiece(piece));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ADDED_TOKENS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: id < 3,
    })),
    normalizer: { type: 'Replace', pattern: { String: ' ' }, content: SPACE_MARKER },
    pre_tokenizer: {
      type: 'Split',
      pattern: { Regex: PRE_TOKENIZER_PATTERN },
      behavior: 'Isolated',
      invert: false,
    },
    post_processor: null,
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: SPACE_MARKER }, content: ' ' },
        { type: 'Fuse' },
      ],
    },
    model: { type: 'WordLevel', vocab, unk_token: SPECIAL_TOKENS.unk },
  };
}

/** The tokenizer_config.json that goes beside tokenizer.json (names the special tokens). */
export function tokenizerConfigJson(maxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: null,
    eos_token: SPECIAL_TOKENS.eos,
    pad_token: SPECIAL_TOKENS.pad,
    unk_token: SPECIAL_TOKENS.unk,
    model_max_length: maxLength,
    clean_up_tokenization_spaces: false,
  };
}

/**
 * The tokenizer's own reference implementation (no dependency): encodes and decodes exactly as
 * the tokenizer.json it was built from does in Hugging Face tokenizers.
 */
export class WordLevelTokenizer {
  private readonly idOfPiece: Map<string, number>;
  private readonly pieceOfId: string[];
  readonly padId: number;
  readonly eosId: number;
  readonly unkId: number;

  constructor(readonly json: WordLevelTokenizerJson) {
    if (json.model?.type !== 'WordLevel') {
      throw new Error(
        `tokenizer.json: model.type must be "WordLevel", got ${JSON.stringify(json.model?.type)}`,
      );
    }
    this.idOfPiece = new Map(Object.entries(json.model.vocab));
    this.pieceOfId = [];
    for (const [piece, id] of this.idOfPiece) this.pieceOfId[id] = piece;
    const required = (token: string) => {
      const id = this.idOfPiece.get(token);
      if (id === undefined) throw new Error(`tokenizer.json: model.vocab has no ${token}`);
      return id;
    };
    this.padId = required(SPECIAL_TOKENS.pad);
    this.eosId = required(SPECIAL_TOKENS.eos);
    this.unkId = required(SPECIAL_TOKENS.unk);
  }

  /** Number of tokens (the model's vocab_size). */
  get vocabSize(): number {
    return this.pieceOfId.length;
  }

  /** Token ids of a text; pieces outside the vocabulary become `<unk>`. */
  encode(text: string): number[] {
    return splitIntoPieces(text).map((piece) => this.idOfPiece.get(piece) ?? this.unkId);
  }

  /** The token strings of a text (before id lookup). */
  tokenize(text: string): string[] {
    return splitIntoPieces(text);
  }

  /** Text of token ids; `skipSpecialTokens` drops `<pad>`, `<eos>` and `<unk>`. */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    let text = '';
    for (const id of ids) {
      const piece = this.pieceOfId[id];
      if (piece === undefined)
        throw new Error(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
      if (options.skipSpecialTokens && id < 3) continue;
      text += piece;
    }
    return text.replaceAll(SPACE_MARKER, ' ');
  }

  /** Pieces of `text` that are not in the vocabulary. */
  unknownPieces(text: string): string[] {
    return splitIntoPieces(text).filter((piece) => !this.idOfPiece.has(piece));
  }
}
