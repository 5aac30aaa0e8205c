import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HfTokenizer } from '../../src';
import { buildWordLevelTokenizerJson } from './word-tokenizer';

const corpus = ['Q: what is 12 plus 3?\nA: [cot]: 12 + 3 = 15\nFinal answer: 15'];

describe('HfTokenizer over @huggingface/tokenizers', () => {
  it('encodes without special tokens, decodes back, and finds EOS and padding', () => {
    const tokenizer = HfTokenizer.fromJson(buildWordLevelTokenizerJson(corpus));
    const ids = tokenizer.encode(corpus[0]!);
    expect(ids.length).toBeGreaterThan(20);
    expect(ids).not.toContain(tokenizer.eosTokenId);
    expect(tokenizer.decode(ids)).toBe(corpus[0]);
    expect(tokenizer.decode([...ids, tokenizer.eosTokenId])).toBe(corpus[0]);
    expect(tokenizer.decode([])).toBe('');
    expect(tokenizer.tokens(tokenizer.encode('12'))).toEqual(['1', '2']);
    expect(tokenizer.eosTokenId).toBe(1); // '<eos>' is the first common EOS name present
    // No tokenizer_config.json: padding falls back to EOS (padding is masked anyway).
    expect(tokenizer.padTokenId).toBe(tokenizer.eosTokenId);
  });

  it('maps unknown words to <unk> (the library returns undefined for them)', () => {
    const tokenizer = HfTokenizer.fromJson(buildWordLevelTokenizerJson(corpus));
    expect(tokenizer.encode('zebra 4')).toEqual([
      2,
      tokenizer.encode(' ')[0],
      tokenizer.encode('4')[0],
    ]);
  });

  it('reads tokenizer_config.json from the folder, and names the file in errors', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'siked-tok-'));
    await fs.writeFile(
      path.join(dir, 'tokenizer.json'),
      JSON.stringify(buildWordLevelTokenizerJson(corpus)),
    );
    await fs.writeFile(
      path.join(dir, 'tokenizer_config.json'),
      JSON.stringify({ eos_token: '<eos>', pad_token: '<unk>' }),
    );
    const tokenizer = await HfTokenizer.fromFile(dir);
    expect(tokenizer.padTokenId).toBe(2);
    await fs.writeFile(
      path.join(dir, 'tokenizer_config.json'),
      JSON.stringify({ eos_token: '</s>' }),
    );
    await expect(HfTokenizer.fromFile(dir)).rejects.toThrow(
      /tokenizer\.json: end-of-sequence token "<\/s>"/,
    );
    await fs.writeFile(path.join(dir, 'tokenizer.json'), '{ not json');
    await expect(HfTokenizer.fromFile(path.join(dir, 'tokenizer.json'))).rejects.toThrow(
      /tokenizer\.json: not valid JSON/,
    );
    await fs.rm(dir, { recursive: true, force: true });
  });
});
