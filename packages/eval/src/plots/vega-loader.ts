// vega and vega-lite are ESM-only. This package compiles to CommonJS, where TypeScript (and swc
// under jest) would turn `import('vega')` into `require('vega')`. A Function-built `import()` is
// invisible to both compilers, so it stays a real dynamic import that Node's ESM loader serves.
// jest's CommonJS runtime refuses such imports (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG), and
// it also intercepts require(esm); that is why rendering is tested through the built CLI in test/.

/** The part of vega's API this package uses (vega ships its own types, but only as ESM). */
export interface VegaModule {
  parse(spec: unknown, config?: unknown): unknown;
  View: new (
    runtime: unknown,
    options: { renderer: 'none' },
  ) => { toSVG(scaleFactor?: number): Promise<string>; finalize(): void };
}

/** The part of vega-lite's API this package uses. */
export interface VegaLiteModule {
  compile(spec: unknown): { spec: unknown };
}

const importEsm = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

let loaded: Promise<{ vega: VegaModule; vegaLite: VegaLiteModule }> | undefined;

/**
 * Loads vega and vega-lite once per process. Rejects with an explanation when the host cannot
 * run a native dynamic `import()` (jest's CommonJS runtime, for one).
 */
export function loadVega(): Promise<{ vega: VegaModule; vegaLite: VegaLiteModule }> {
  loaded ??= Promise.all([importEsm('vega'), importEsm('vega-lite')]).then(
    ([vega, vegaLite]) => ({ vega: vega as VegaModule, vegaLite: vegaLite as VegaLiteModule }),
    (error: unknown) => {
      loaded = undefined;
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `cannot load vega/vega-lite (ESM-only) through a dynamic import(): ${reason}. ` +
          'Plots render in plain Node (>= 20.19); under jest, render through the built CLI instead.',
      );
    },
  );
  return loaded;
}
