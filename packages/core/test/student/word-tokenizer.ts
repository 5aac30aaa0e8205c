// A small word-level tokenizer.json written by the tests themselves (test-only): digits, words,
// single punctuation characters, spaces and newlines are tokens; decoding concatenates them.

const SPECIAL = ['<pad>', '<eos>', '<unk>'];

/** Builds a Hugging Face tokenizer.json (WordLevel) whose vocabulary holds every piece of `texts`. */
export function buildWordLevelTokenizerJson(texts: readonly string[]): object {
  const pieces = new Set<string>();
  const pattern = /\d|[A-Za-z_]+|\n|[^\sA-Za-z_\d]| /g;
  for (const text of texts) for (const match of text.matchAll(pattern)) pieces.add(match[0]);
  for (let d = 0; d <= 9; d += 1) pieces.add(String(d));
  const words = [...SPECIAL, ...[...pieces].sort()];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: {
      type: 'Split',
      pattern: { Regex: '\\d|[A-Za-z_]+|\\n|[^\\sA-Za-z_\\d]| ' },
      behavior: 'Isolated',
      invert: false,
    },
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: {
      type: 'WordLevel',
      vocab: Object.fromEntries(words.map((w, i) => [w, i])),
      unk_token: '<unk>',
    },
  };
}
