/**
 * @siked/core: SIKeD as a library. This file is the package's only public surface.
 */
export {
  STRATEGIES,
  isStrategy,
  type Strategy,
  type Problem,
  type Solution,
  type Origin,
} from './types';
