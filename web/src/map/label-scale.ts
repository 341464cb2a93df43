/**
 * Map labels follow the console's type scale (styles.css grows the root font from a laptop to a 4K
 * wall): a label readable at arm's length must stay readable from across a control room.
 */
import type { ExpressionSpecification } from 'maplibre-gl';

export type Size = number | ExpressionSpecification;

/** The root font size against the laptop's, kept within what the map's label density allows. */
export function labelScale(rootFontPx: number): number {
  return Math.min(1.8, Math.max(1, rootFontPx / 15));
}

/** A `text-size` times `scale`: a number, or the outputs of a zoom `interpolate` / `step`. */
export function scaleSize(size: Size, scale: number): Size {
  if (typeof size === 'number') return round(size * scale);
  const [operator] = size;
  if (operator !== 'interpolate' && operator !== 'step') return size;
  const items: unknown[] = size;
  // interpolate: [op, type, input, stop, out, stop, out…]; step: [op, input, out, stop, out…].
  const firstOutput = operator === 'interpolate' ? 4 : 2;
  return items.map((item, index) => (index >= firstOutput && (index - firstOutput) % 2 === 0 && typeof item === 'number' ? round(item * scale) : item)) as ExpressionSpecification;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
