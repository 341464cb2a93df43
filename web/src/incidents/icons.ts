/**
 * Incident icons by type, drawn on a canvas at start (white on the severity-coloured disc), so that no
 * sprite sheet has to be fetched. A city's own incident types fall back to their category's icon.
 */
import type { Map as MapLibreMap } from 'maplibre-gl';

export const ICONS = ['accident', 'congestion', 'flood', 'air', 'offline', 'light', 'noise', 'generic'] as const;
export type IconName = (typeof ICONS)[number];

const BY_TYPE: [RegExp, IconName][] = [
  [/accident|crash|collision/, 'accident'],
  [/congest|jam|traffic/, 'congestion'],
  [/flood|water|rain/, 'flood'],
  [/air|pollut|aqi|smoke|fire/, 'air'],
  [/offline|silent|device/, 'offline'],
  [/light|lamp/, 'light'],
  [/noise/, 'noise'],
];
const BY_CATEGORY: Record<string, IconName> = { traffic: 'congestion', naturalDisaster: 'flood', environment: 'air' };

export function incidentIcon(type: string, category: string): IconName {
  return BY_TYPE.find(([pattern]) => pattern.test(type))?.[1] ?? BY_CATEGORY[category] ?? 'generic';
}

const SIZE = 24;

function draw(context: CanvasRenderingContext2D, icon: IconName): void {
  context.strokeStyle = '#ffffff';
  context.fillStyle = '#ffffff';
  context.lineWidth = 2;
  context.lineCap = 'round';
  context.lineJoin = 'round';
  const path = new Path2D();
  switch (icon) {
    case 'accident':
      path.roundRect(5, 9, 14, 6, 2);
      path.moveTo(8, 9);
      path.lineTo(10, 6);
      path.lineTo(15, 6);
      path.lineTo(17, 9);
      context.stroke(path);
      context.beginPath();
      context.arc(8.5, 16.5, 1.6, 0, Math.PI * 2);
      context.arc(15.5, 16.5, 1.6, 0, Math.PI * 2);
      context.fill();
      return;
    case 'congestion':
      for (const y of [7, 12, 17]) {
        path.moveTo(6, y);
        path.lineTo(18, y);
      }
      break;
    case 'flood':
      for (const y of [9, 14]) {
        path.moveTo(5, y);
        path.bezierCurveTo(8, y - 3, 10, y + 3, 12, y);
        path.bezierCurveTo(14, y - 3, 16, y + 3, 19, y);
      }
      break;
    case 'air':
      path.moveTo(7, 16);
      path.bezierCurveTo(3, 16, 4, 10, 8, 11);
      path.bezierCurveTo(8, 6, 15, 6, 15, 10);
      path.bezierCurveTo(19, 9, 20, 16, 16, 16);
      path.closePath();
      break;
    case 'offline':
      path.arc(12, 12, 6, 0, Math.PI * 2);
      path.moveTo(7.5, 7.5);
      path.lineTo(16.5, 16.5);
      break;
    case 'light':
      path.arc(12, 10, 4.5, 0, Math.PI * 2);
      path.moveTo(10, 17);
      path.lineTo(14, 17);
      path.moveTo(10.5, 19.5);
      path.lineTo(13.5, 19.5);
      break;
    case 'noise':
      path.moveTo(6, 10);
      path.lineTo(9, 10);
      path.lineTo(13, 6.5);
      path.lineTo(13, 17.5);
      path.lineTo(9, 14);
      path.lineTo(6, 14);
      path.closePath();
      path.moveTo(16, 9);
      path.quadraticCurveTo(18.5, 12, 16, 15);
      break;
    case 'generic':
      path.moveTo(12, 6);
      path.lineTo(12, 13.5);
      context.stroke(path);
      context.beginPath();
      context.arc(12, 17.5, 1.5, 0, Math.PI * 2);
      context.fill();
      return;
  }
  context.stroke(path);
}

/** An icon on a neutral disc, as an image URL for the legend (undefined where there is no canvas). */
export function iconDataUrl(icon: IconName, disc: string): string | undefined {
  const ratio = 2;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = SIZE * ratio;
  const context = canvas.getContext?.('2d');
  if (!context) return undefined;
  context.scale(ratio, ratio);
  context.fillStyle = disc;
  context.beginPath();
  context.arc(SIZE / 2, SIZE / 2, SIZE / 2, 0, Math.PI * 2);
  context.fill();
  draw(context, icon);
  return canvas.toDataURL('image/png');
}

export function addIncidentIcons(map: MapLibreMap): void {
  const ratio = 2;
  for (const icon of ICONS) {
    const id = `incident-${icon}`;
    if (map.hasImage(id)) continue;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = SIZE * ratio;
    const context = canvas.getContext('2d');
    if (!context) return;
    context.scale(ratio, ratio);
    draw(context, icon);
    map.addImage(id, context.getImageData(0, 0, SIZE * ratio, SIZE * ratio), { pixelRatio: ratio });
  }
}
