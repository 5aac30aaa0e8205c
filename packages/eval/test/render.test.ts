import { Resvg } from '@resvg/resvg-js';
import { bundledFontFiles, loadVega, svgToPng } from '@siked/eval';

const textSvg =
  '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40">' +
  '<rect width="120" height="40" fill="white"/>' +
  '<text x="4" y="30" font-family="DejaVu Sans" font-size="28" fill="black">Ab 42</text></svg>';

function darkPixels(png: Buffer): number {
  // Decode by rendering the PNG inside an SVG: resvg gives raw RGBA pixels back.
  const wrapped = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="80"><image width="240" height="80" href="data:image/png;base64,${png.toString('base64')}"/></svg>`;
  const pixels = new Resvg(wrapped).render().pixels;
  let dark = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 128 && pixels[i + 3] > 0) dark += 1;
  return dark;
}

describe('svgToPng', () => {
  it('draws text with the bundled font, system fonts off', () => {
    const png = svgToPng(textSvg, { scale: 2 });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([240, 80]);
    expect(darkPixels(png)).toBeGreaterThan(500);
  });

  it('would lose the text without a font (why the font is bundled)', () => {
    const bare = new Resvg(textSvg, {
      font: { loadSystemFonts: false },
      fitTo: { mode: 'zoom', value: 2 },
    });
    expect(darkPixels(bare.render().asPng())).toBe(0);
  });

  it('finds the bundled font files', () => {
    expect(bundledFontFiles().every((file) => file.endsWith('.ttf'))).toBe(true);
  });

  it('bounds the PNG size instead of allocating gigabytes', () => {
    const figure = '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360"></svg>';
    expect(() => svgToPng(figure, { scale: 100 })).toThrow(
      /scale 100 would make a 64000x36000 PNG \(over 40 Mpx\); at most 13\.1 for this 640x360 figure/,
    );
    const png = svgToPng(figure, { scale: 13 });
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([8320, 4680]);
  });

  it('rejects a bad scale', () => {
    expect(() => svgToPng(textSvg, { scale: 0 })).toThrow(
      'Expected a positive number for scale but received 0',
    );
  });
});

describe('loadVega under jest', () => {
  it('explains that vega (ESM-only) renders in plain Node, not in jest', async () => {
    // jest's CommonJS runtime cannot run a native dynamic import(); the built CLI can (test/).
    await expect(loadVega()).rejects.toThrow(/render through the built CLI/);
  });
});
