// Export of the drawn graph: a standalone SVG (theme colours inlined) and a PNG drawn from it on a canvas, downloaded via Blob URLs.

import { SVG_NS } from './draw';

/** Computed styles copied onto the exported copy, so that it looks the same outside JupyterLab's CSS. */
const STYLE_PROPERTIES = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-dasharray',
  'stroke-opacity',
  'opacity',
  'display',
  'font-family',
  'font-size',
  'font-weight'
];

const MARGIN = 16;
/** Canvas limits that every current browser accepts. */
const MAX_CANVAS_SIDE = 16_000;
const MAX_CANVAS_AREA = 120_000_000;

/** A file name made of safe characters from a title. */
export function exportFileName(title: string, extension: string): string {
  const stem = title.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[_.]+|_+$/g, '').slice(0, 80);
  return `${stem || 'graph'}.${extension}`;
}

/** The drawn graph as standalone SVG text: the whole graph (not the current zoom), styles inlined, on the view's background. */
export function standaloneSvg(svg: SVGSVGElement, size: { width: number; height: number }, background: string): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const originals = svg.querySelectorAll('*');
  const copies = copy.querySelectorAll('*');
  originals.forEach((original, index) => {
    const computed = getComputedStyle(original);
    const target = copies[index] as SVGElement;
    const style = STYLE_PROPERTIES.map(name => `${name}:${computed.getPropertyValue(name)}`).join(';');
    target.setAttribute('style', style);
    target.removeAttribute('class');
  });
  const width = Math.ceil(size.width + 2 * MARGIN);
  const height = Math.ceil(size.height + 2 * MARGIN);
  copy.removeAttribute('class');
  copy.setAttribute('xmlns', SVG_NS);
  copy.setAttribute('width', String(width));
  copy.setAttribute('height', String(height));
  copy.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const viewport = copy.querySelector('defs + g');
  viewport?.setAttribute('transform', `translate(${MARGIN},${MARGIN})`);
  const backdrop = document.createElementNS(SVG_NS, 'rect');
  backdrop.setAttribute('width', '100%');
  backdrop.setAttribute('height', '100%');
  backdrop.setAttribute('fill', background);
  copy.insertBefore(backdrop, copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

/** Offer a Blob as a download (an anchor with `download`, clicked). */
export function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  anchor.style.display = 'none';
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export function svgBlob(text: string): Blob {
  return new Blob([text], { type: 'image/svg+xml;charset=utf-8' });
}

/** A PNG of standalone SVG text: drawn on a canvas at up to twice the size, within canvas limits. */
export async function pngBlob(text: string, size: { width: number; height: number }): Promise<Blob> {
  const width = size.width + 2 * MARGIN;
  const height = size.height + 2 * MARGIN;
  const scale = Math.min(2, MAX_CANVAS_SIDE / width, MAX_CANVAS_SIDE / height, Math.sqrt(MAX_CANVAS_AREA / (width * height)));
  const url = URL.createObjectURL(svgBlob(text));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.floor(width * scale));
    canvas.height = Math.max(1, Math.floor(height * scale));
    const context = canvas.getContext('2d');
    if (!context) {
      throw new Error('this browser gave no 2D canvas to draw the PNG on');
    }
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob(blob => (blob ? resolve(blob) : reject(new Error('the canvas could not encode a PNG'))), 'image/png')
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Download the drawing as SVG or PNG, named after the graph's title, on the background of the view's canvas. */
export async function exportDrawing(
  svg: SVGSVGElement,
  size: { width: number; height: number },
  canvas: HTMLElement,
  title: string,
  format: 'svg' | 'png'
): Promise<void> {
  const background = getComputedStyle(canvas).backgroundColor || '#ffffff';
  const text = standaloneSvg(svg, size, background);
  download(format === 'svg' ? svgBlob(text) : await pngBlob(text, size), exportFileName(title, format));
}
