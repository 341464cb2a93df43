import { render, screen } from '@testing-library/react';
import i18next from 'i18next';
import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError } from '../../src/api/client.js';
import { zonesCsv } from '../../src/history/history-data.js';
import { actionLabel, errorMessage, incidentTypeLabel } from '../../src/i18n/labels.js';
import { layerGroups } from '../../src/layers/definitions.js';
import { LayerPanel } from '../../src/layers/LayerPanel.js';
import { scaleSize } from '../../src/map/label-scale.js';

const t = i18next.t.bind(i18next);

describe('words for codes', () => {
  it('names an unknown incident type by its category and an unknown action in words', () => {
    expect(incidentTypeLabel(t, 'accident', 'traffic')).toBe('Tai nạn giao thông');
    expect(incidentTypeLabel(t, 'sinkhole', 'traffic')).toBe('Sự cố Giao thông');
    expect(incidentTypeLabel(t, 'sinkhole', 'volcano')).toBe('Sự cố Khác');
    expect(actionLabel(t, 'reassign_team')).toBe('cập nhật');
  });

  it('translates a known api error code and keeps the api message as detail', () => {
    expect(errorMessage(t, new ApiError(409, 'invalid_transition', 'incident x is resolved'))).toEqual({ message: 'Sự cố đã đổi trạng thái; danh sách sẽ cập nhật ngay.', detail: 'incident x is resolved' });
    expect(errorMessage(t, new ApiError(418, 'teapot', 'short and stout')).message).toBe('Thao tác không thành công.');
    expect(errorMessage(t, new Error('boom'))).toEqual({ message: 'Thao tác không thành công.' });
  });
});

describe('legends', () => {
  it('shows the incident type icons next to the severity colours, and numbers in the language', () => {
    const groups = layerGroups();
    render(<LayerPanel groups={groups} visible={{ incidents: true, noise: true }} onToggle={vi.fn()} choropleth={undefined} onChoropleth={vi.fn()} />);
    const incidents = screen.getByRole('list', { name: 'Chú giải: Sự cố' });
    for (const label of ['Khẩn cấp', 'Tai nạn', 'Ngập, thiên tai', 'Đèn đường']) expect(incidents.textContent).toContain(label);
    expect(screen.getByRole('list', { name: 'Chú giải: Tiếng ồn' }).textContent).toContain('dB(A) 55–70');
  });
});

describe('history CSV', () => {
  it('holds every zone shown, merged from batches of 20 in time then zone order', async () => {
    const client = new ApiClient();
    const zones = Array.from({ length: 25 }, (_, index) => `z${index}`);
    const csv = vi.spyOn(client, 'historyCsv').mockImplementation(async (params) => {
      const ids = String(params.zone).split(',');
      const rows = ['2025-06-01T00:00:00.000Z', '2025-06-01T00:15:00.000Z'].flatMap((time) => ids.map((id) => `${time},${id},1`));
      return new Blob([['time,zone,mean_pm25', ...rows].join('\n') + '\n']);
    });
    const text = await (await zonesCsv(client, { from: 0, to: 1, every: '15m', stepMs: 900_000 }, 'pm25', zones)).text();
    expect(csv).toHaveBeenCalledTimes(2);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('time,zone,mean_pm25');
    expect(lines).toHaveLength(1 + 2 * 25);
    expect(lines.slice(1, 27).map((line) => line.split(',')[1])).toEqual([...zones, 'z0']);
  });
});

describe('map labels on a wall screen', () => {
  it('scales fixed and zoom-interpolated text sizes, leaving zoom stops alone', () => {
    expect(scaleSize(12, 1.5)).toBe(18);
    expect(scaleSize(['interpolate', ['linear'], ['zoom'], 11, 10, 16, 14], 1.5)).toEqual(['interpolate', ['linear'], ['zoom'], 11, 15, 16, 21]);
  });
});
