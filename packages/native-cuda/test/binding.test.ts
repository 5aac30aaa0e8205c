// The N-API binding's lifetime and concurrency guarantees.
import { Model } from '@siked/native-cuda';
import { microConfig } from './micro';

describe('binding', () => {
  it('finishes a running call after dispose() and then refuses new ones', async () => {
    const model = Model.fromConfig(microConfig(), { seed: 1 });
    const pending = model.generate([[1, 2, 3]], { maxNewTokens: 20 });
    model.dispose();
    const [g] = await pending;
    expect(g.tokens).toHaveLength(20);
    await expect(model.generate([[1]], { maxNewTokens: 1 })).rejects.toThrow(/disposed/);
    expect(() => model.dispose()).not.toThrow();
  });

  it('serialises concurrent calls on one model', async () => {
    const model = Model.fromConfig(microConfig(), { seed: 2 });
    const tokens = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6]);
    const alone = await model.logits(tokens, 2, 4);
    const together = await Promise.all([
      model.logits(tokens, 2, 4),
      model.generate([[1, 2]], { maxNewTokens: 5, temperature: 1, seed: 3 }),
      model.logits(tokens, 2, 4),
    ]);
    expect(together[0]).toEqual(alone);
    expect(together[2]).toEqual(alone);
    model.dispose();
  });

  it('rejects with a JS error whose stack shows the caller', async () => {
    const model = Model.fromConfig(microConfig(), { seed: 3 });
    const error = await model.step(1e-3).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/no masked tokens/);
    expect((error as Error).stack).toMatch(/binding\.test\.ts/);
    model.dispose();
  });

  it('says why device cuda cannot run, without crashing', () => {
    // head_dim 4: refused by the CUDA backend's shape check, or by the build/device check first.
    expect(() => Model.fromConfig(microConfig(), { seed: 1, device: 'cuda' })).toThrow(
      /device 'cuda': (head_dim 4 is not supported|this build of the engine has no CUDA backend|no CUDA device|the CUDA runtime failed)/,
    );
    expect(() =>
      Model.fromConfig(microConfig(), { seed: 1, device: 'tpu' as unknown as 'cpu' }),
    ).toThrow(/device/);
  });
});
