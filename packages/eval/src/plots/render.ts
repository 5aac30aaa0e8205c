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

/** Rasterises an SVG document to PNG with the bundled font only (system fonts are not read). */
export function svgToPng(svg: string, options: PngOptions = {}): Buffer {
  const scale = options.scale ?? 2;
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new Error(`Expected a positive number for scale but received ${String(scale)}`);
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
