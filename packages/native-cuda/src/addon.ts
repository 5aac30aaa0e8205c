// The one place the compiled addon is loaded. Every other module gets the binding from here.
import * as path from 'node:path';

/** What the compiled addon reports about itself and the machine. */
export interface BuildInfo {
  napiVersion: number;
  /** SIMD level the CPU kernels dispatch to on this machine. */
  simd: 'scalar' | 'avx2' | 'avx512';
  /**
   * The bf16 matrix instructions precision 'bf16' runs on here: AMX tiles, AVX512-BF16, or none
   * (bf16 then runs in float32).
   */
  bf16: 'amx' | 'avx512bf16' | 'none';
  /**
   * The kernel precision 'bf16' runs on (Model.matmulKernel): the bf16 level, or a float32
   * kernel where the CPU has none or its AVX512-BF16 is not clearly faster than float32 FMAs.
   */
  bf16Matmul: string;
  /** The float32 GEMM kernels and cache blocking in use, and the caches they were chosen from. */
  gemm: string;
  cuda: {
    compiled: boolean;
    deviceCount: number;
    error: string | null;
    devices: { name: string; computeCapability: string }[];
  };
}

/** Raw functions exported by the C++ addon (see src/cpp/addon.cpp). Internal to this package. */
export interface NativeBinding {
  buildInfo(): BuildInfo;
  [name: string]: unknown;
}

const packageRoot = path.resolve(__dirname, '..');
/** The CPU emulation of the CUDA backend (`npm run build:emulate`), chosen by SIKED_ADDON=emulate. */
export const emulatedAddonPath = path.join(
  packageRoot,
  'build-emulate',
  'Release',
  'siked_native.node',
);
let cached: NativeBinding | undefined;

/** Thrown when the compiled addon cannot be found or loaded; its message says how to fix it. */
export class AddonLoadError extends Error {
  override name = 'AddonLoadError';
}

/**
 * Loads the addon once and returns its binding: $SIKED_ADDON_PATH when set (e.g. the sanitizer
 * build of tools/sanitize-test.sh), else the CPU emulation of the CUDA backend when
 * SIKED_ADDON=emulate, else build/Release, then prebuilds/.
 */
export function loadBinding(): NativeBinding {
  if (cached) return cached;
  const override = process.env.SIKED_ADDON_PATH;
  if (override) {
    try {
      cached = require(path.resolve(override)) as NativeBinding;
      return cached;
    } catch (cause) {
      throw new AddonLoadError(`SIKED_ADDON_PATH=${override} failed to load: ${String(cause)}`, {
        cause,
      });
    }
  }
  const variant = process.env.SIKED_ADDON;
  if (variant === 'emulate') {
    try {
      cached = require(emulatedAddonPath) as NativeBinding;
      return cached;
    } catch (cause) {
      throw new AddonLoadError(
        `SIKED_ADDON=emulate: the CUDA emulation build at ${emulatedAddonPath} failed to load ` +
          `(build it with: npm run build:emulate -w @siked/native-cuda): ${String(cause)}`,
        { cause },
      );
    }
  }
  if (variant) {
    throw new AddonLoadError(
      `SIKED_ADDON=${variant} is not a known build; use SIKED_ADDON=emulate, or SIKED_ADDON_PATH`,
    );
  }
  try {
    // node-gyp-build looks in build/Release, build/Debug and prebuilds/<platform-arch>/.
    const load = require('node-gyp-build') as (dir: string) => NativeBinding;
    cached = load(packageRoot);
    return cached;
  } catch (cause) {
    throw new AddonLoadError(describeLoadFailure(cause), { cause });
  }
}

function describeLoadFailure(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  const fix =
    'Rebuild it with: npm run build -w @siked/native-cuda (needs cmake and a C++17 compiler)';
  if (/No native build was found/.test(message)) {
    return `The siked engine addon has not been built (looked in ${packageRoot}/build/Release and prebuilds/). ${fix}.`;
  }
  if (
    /NODE_MODULE_VERSION|was compiled against a different Node\.js version|did not self-register/.test(
      message,
    )
  ) {
    return `The siked engine addon was built for another Node.js version than ${process.version}. ${fix}.\nCause: ${message}`;
  }
  return `The siked engine addon at ${packageRoot} failed to load: ${message}\n${fix}.`;
}
