import { describe, expect, it } from 'vitest';
import { renderReport } from '../src/report.js';

describe('the reliability report', () => {
  it('renders one row per outcome, escaping table syntax and marking failures', () => {
    const text = renderReport([
      { id: 'a', fault: 'InfluxDB killed | 60 s', load: '400 readings/s', lost: 'nothing', recoverySeconds: 4.25, passed: true, recordedAt: '2026-01-01T00:00:00Z' },
      { id: 'b', fault: 'broker restarted', load: '400 readings/s', lost: '3 readings', recoverySeconds: null, passed: false, recordedAt: '2026-01-01T00:01:00Z' },
    ]);
    expect(text).toContain('| InfluxDB killed \\| 60 s | 400 readings/s | nothing | 4.3 | pass |  |');
    expect(text).toContain('| broker restarted | 400 readings/s | 3 readings | — | **FAIL** |  |');
    expect(text).toContain('Runs from 2026-01-01T00:00:00Z to 2026-01-01T00:01:00Z');
  });
});
