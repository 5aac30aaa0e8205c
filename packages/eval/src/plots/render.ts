// Figures to files: Vega-Lite -> Vega -> SVG (vega's headless View, no canvas, no browser) -> PNG
// (resvg). resvg is told to use only the bundled DejaVu font: with system fonts off and no font
// given, every label would silently vanish on a machine without fonts.
import { Resvg } from '@resvg/resvg-js';
import { loadVega } from './vega-loader';
import { PLOT_FONT, type PlotSpec } from './specs';

/** Paths of the bundled fonts the PNG renderer loads (regular and bold, for titles). */
export function bundledFontFiles(): string[] {
  return ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((file) =>
    require.resolve(`dejavu-fonts-ttf/ttf/${file}`),
  );
}

/** Renders a Vega-Lite spec to an SVG document (text as `<text>` elements, font DejaVu Sans). */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const { vega, vegaLite } = await loadVega();
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Options of {@link svgToPng}. */
export interface PngOptions {
  /** Output pixels per SVG pixel (2 = sharp on high-density screens). Default 2. */
  scale?: number;
}

/**
 * The most pixels one PNG may have: 40 Mpx is ~160 MB of RGBA while it is encoded (a 640x360
 * figure at scale 13). Beyond that the renderer's memory, not the figure, is what grows.
 */
export const MAX_PNG_PIXELS = 40_000_000;

/** Rasterises an SVG document to PNG with the bundled font only (system fonts are not read). */
export function svgToPng(svg: string, options: PngOptions = {}): Buffer {
  const scale = options.scale ?? 2;
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new Error(`Expected a positive number for scale but received ${String(scale)}`);
  }
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const size = (name: string) => Number(new RegExp(`\\b${name}="([\\d.]+)"`).exec(root)?.[1] ?? 0);
  const pixels = size('width') * size('height') * scale * scale;
  if (pixels > MAX_PNG_PIXELS) {
    const largest = Math.sqrt(MAX_PNG_PIXELS / (size('width') * size('height')));
    throw new RangeError(
      `scale ${scale} would make a ${Math.round(size('width') * scale)}x${Math.round(size('height') * scale)} PNG ` +
        `(over ${MAX_PNG_PIXELS / 1e6} Mpx); at most ${Math.floor(largest * 10) / 10} for this ${size('width')}x${size('height')} figure`,
    );
  }
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: bundledFontFiles(), defaultFontFamily: PLOT_FONT },
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
  });
  return resvg.render().asPng();
}

/** A figure rendered both ways. */
export interface RenderedPlot {
  plot: PlotSpec;
  svg: string;
  png: Buffer;
}

/** Renders one figure to SVG and PNG. */
export async function renderPlot(plot: PlotSpec, options: PngOptions = {}): Promise<RenderedPlot> {
  const svg = await renderSvg(plot.spec);
  return { plot, svg, png: svgToPng(svg, options) };
}
