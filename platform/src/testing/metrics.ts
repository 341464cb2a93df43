/** Reads one sample from a Prometheus `/metrics` endpoint; NaN when the series is absent. */
export async function readMetric(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((response) => response.text());
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text
    .split('\n')
    .find((candidate) => (candidate.startsWith(`${name} `) || candidate.startsWith(`${name}{`)) && wanted.every((label) => candidate.includes(label)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}
