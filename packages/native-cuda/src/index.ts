/**
 * @siked/native-cuda: the student engine (C++ CPU backend, optional CUDA backend) behind a typed API.
 * This file is the package's only public surface.
 */
import { loadBinding, type BuildInfo } from './addon';

export { AddonLoadError, type BuildInfo } from './addon';

/** What this build of the engine contains (SIMD level, CUDA backend and visible devices). */
export function buildInfo(): BuildInfo {
  return loadBinding().buildInfo();
}
