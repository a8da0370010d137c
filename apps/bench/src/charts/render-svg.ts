// A Vega-Lite spec to an SVG string, in Node, with no browser and no canvas: Vega's headless
// View renders the scenegraph to SVG markup itself (text widths are estimated, which is why the
// theme keeps labels short and leaves padding).

import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { spec: vegaSpec } = compile(spec);
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg.endsWith('\n') ? svg : `${svg}\n`;
  } finally {
    view.finalize();
  }
}
