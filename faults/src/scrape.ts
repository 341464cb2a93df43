/** Every `reason` of a Prometheus counter at once, to compare a fault's rejections with what it owed. */
export async function countsByReason(port: number, name: string): Promise<Record<string, number>> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((response) => response.text());
  const counts: Record<string, number> = {};
  const sample = new RegExp(`^${name}\\{(?:[^}]*,)?reason="([^"]*)"[^}]*\\} (\\S+)$`, 'gm');
  for (const [, reason, value] of text.matchAll(sample)) counts[reason as string] = (counts[reason as string] ?? 0) + Number(value);
  return counts;
}

/** `after - before` per reason, leaving out reasons that did not move. */
export function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const moved: Record<string, number> = {};
  for (const [reason, value] of Object.entries(after)) {
    const delta = value - (before[reason] ?? 0);
    if (delta !== 0) moved[reason] = delta;
  }
  return moved;
}
