import {
  ARM_DEFINITIONS,
  DEFAULT_ARMS,
  chosen,
  comparisonSpecs,
  orderArms,
} from '../src/commands/experiment-arms';

describe('experiment arms', () => {
  it('orders arms after what they need and names what is missing', () => {
    expect(orderArms(['siked-sparse-checked', 'siked-sparse'])).toEqual({
      arms: ['siked-sparse', 'siked-sparse-checked'],
      unknown: [],
      missing: [],
    });
    expect(orderArms(['siked-sparse-checked', 'nope'])).toEqual({
      arms: ['siked-sparse-checked'],
      unknown: ['nope'],
      missing: ['siked-sparse'],
    });
  });

  it('the checked arm is SIKeD-sparse with both working checks on its own samples', () => {
    const settings = ARM_DEFINITIONS['siked-sparse-checked'].settings({ seed: 1 }, 2, {
      sparseIterationSteps: [10, 5, 5],
    });
    expect(settings).toMatchObject({
      seed: 1,
      iterations: 2,
      mixing: 'sparse',
      earlyStopping: false,
      selfWorkingChecks: ['arithmetic', 'grounded-names'],
    });
    expect(ARM_DEFINITIONS['siked-sparse-checked'].forksIteration0).toBe(true);
    expect(DEFAULT_ARMS).not.toContain('siked-sparse-checked');
  });

  it('compares each other loop arm with SIKeD-sparse, and SIKeD-sparse with the controls', () => {
    const specs = comparisonSpecs(['siked-sparse', 'combined-continue', 'siked-sparse-checked'], 2);
    expect(specs).toContainEqual({
      treatment: chosen('siked-sparse-checked'),
      control: chosen('siked-sparse'),
    });
    expect(specs).toContainEqual({
      treatment: chosen('siked-sparse-checked'),
      control: chosen('combined-continue'),
    });
    expect(specs.filter((spec) => spec.control === chosen('siked-sparse'))).toHaveLength(1);
  });
});
