/**
 * Which road segments connect, derived from the geometry in roads.geojson: two segments meet where an
 * end of one lies within a few tens of metres of the other's line (a shared end, or a street ending
 * on another's side). The drawn network is approximate, so ends that nearly touch count as a junction.
 */
import type { RoadSegment } from './city-data.js';

/** Ends of hand-drawn segments closer than this are one junction. */
const JUNCTION_METRES = 40;

export type RoadGraph = ReadonlyMap<string, readonly string[]>;

const graphs = new WeakMap<ReadonlyMap<string, RoadSegment>, RoadGraph>();

/** The graph of a segment table, computed once per table. */
export function roadGraph(segments: ReadonlyMap<string, RoadSegment>): RoadGraph {
  let graph = graphs.get(segments);
  if (!graph) {
    graph = buildGraph([...segments.values()]);
    graphs.set(segments, graph);
  }
  return graph;
}

/** Segments within `maxHops` junctions of `from`, with their distance in hops (`from` itself at 0). */
export function hopsFrom(graph: RoadGraph, from: string, maxHops: number): Map<string, number> {
  const hops = new Map([[from, 0]]);
  let frontier = [from];
  for (let hop = 1; hop <= maxHops; hop++) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const neighbour of graph.get(id) ?? []) {
        if (hops.has(neighbour)) continue;
        hops.set(neighbour, hop);
        next.push(neighbour);
      }
    }
    frontier = next;
  }
  return hops;
}

function buildGraph(segments: readonly RoadSegment[]): RoadGraph {
  const neighbours = new Map<string, string[]>(segments.map((segment) => [segment.id, []]));
  for (const [i, a] of segments.entries()) {
    for (const b of segments.slice(i + 1)) {
      if (!meet(a, b) && !meet(b, a)) continue;
      neighbours.get(a.id)?.push(b.id);
      neighbours.get(b.id)?.push(a.id);
    }
  }
  return neighbours;
}

/** Whether an end of `a` lies on or near `b`'s line. */
function meet(a: RoadSegment, b: RoadSegment): boolean {
  const ends = [a.coordinates[0], a.coordinates.at(-1)].filter((end) => end !== undefined);
  return ends.some((end) => distanceToLineMetres(end, b.coordinates) <= JUNCTION_METRES);
}

const EARTH_METRES_PER_DEGREE = 111_320;

/** Distance from a point to a polyline, on a local flat projection (exact enough within a city). */
function distanceToLineMetres([lon, lat]: [number, number], line: readonly [number, number][]): number {
  const kx = EARTH_METRES_PER_DEGREE * Math.cos((lat * Math.PI) / 180);
  const ky = EARTH_METRES_PER_DEGREE;
  let best = Infinity;
  for (let i = 1; i < line.length; i++) {
    const [x1, y1] = [((line[i - 1] as [number, number])[0] - lon) * kx, ((line[i - 1] as [number, number])[1] - lat) * ky];
    const [x2, y2] = [((line[i] as [number, number])[0] - lon) * kx, ((line[i] as [number, number])[1] - lat) * ky];
    const dx = x2 - x1;
    const dy = y2 - y1;
    const along = dx === 0 && dy === 0 ? 0 : Math.min(1, Math.max(0, -(x1 * dx + y1 * dy) / (dx * dx + dy * dy)));
    best = Math.min(best, Math.hypot(x1 + along * dx, y1 + along * dy));
  }
  return best;
}
