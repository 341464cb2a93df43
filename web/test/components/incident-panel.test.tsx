import { fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import type { Role } from '../../src/api/types.js';
import { IncidentPanel } from '../../src/incidents/IncidentPanel.js';
import { sortIncidents } from '../../src/incidents/sort.js';
import { LiveStore } from '../../src/live/live-store.js';
import { incident, LAYERS } from './fixtures.js';

function storeWithIncidents(): LiveStore {
  const store = new LiveStore();
  store.load(LAYERS);
  store.apply({
    type: 'snapshot',
    ts: 1,
    devices: [],
    segments: {},
    incidents: [
      incident({ id: 'low-old', severity: 'low', openedAt: 1000 }),
      incident({ id: 'high-new', severity: 'high', openedAt: 3000, type: 'flood_danger', category: 'naturalDisaster' }),
      incident({ id: 'high-old', severity: 'high', openedAt: 2000 }),
    ],
  });
  return store;
}

function renderPanel(role: Role, client = new ApiClient()) {
  const store = storeWithIncidents();
  const onSelect = vi.fn();
  const view = render(<IncidentPanel store={store} client={client} role={role} selectedId="high-old" onSelect={onSelect} onChanged={vi.fn()} reporting={false} onReport={vi.fn()} />);
  return { store, onSelect, view };
}

describe('incident panel', () => {
  it('lists the most severe first and, within a severity, the longest waiting', () => {
    expect(sortIncidents(storeWithIncidents().incidents.values()).map((item) => item.id)).toEqual(['high-old', 'high-new', 'low-old']);
    renderPanel('viewer');
    const items = screen.getAllByRole('listitem').filter((item) => item.dataset.incident);
    expect(items.map((item) => item.dataset.incident)).toEqual(['high-old', 'high-new', 'low-old']);
    expect(within(items[1]!).getByText('Ngập nguy hiểm')).toBeTruthy();
  });

  it('gives a viewer no actions', () => {
    renderPanel('viewer');
    expect(screen.queryByRole('button', { name: 'Tiếp nhận' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Báo sự cố' })).toBeNull();
  });

  it('lets an operator acknowledge with a note', async () => {
    const client = new ApiClient();
    const acknowledge = vi.spyOn(client, 'acknowledge').mockResolvedValue(incident({ id: 'high-old', severity: 'high', status: 'acknowledged' }));
    renderPanel('operator', client);
    fireEvent.change(screen.getByLabelText('Ghi chú'), { target: { value: 'Đã cử đội' } });
    fireEvent.click(screen.getByRole('button', { name: 'Tiếp nhận' }));
    expect(acknowledge).toHaveBeenCalledWith('high-old', 'Đã cử đội');
    expect(screen.getByRole('button', { name: 'Báo sự cố' })).toBeTruthy();
  });

  it('filters by minimum severity', () => {
    renderPanel('viewer');
    fireEvent.change(screen.getByLabelText('Mức độ từ'), { target: { value: 'high' } });
    expect(screen.getAllByRole('listitem').filter((item) => item.dataset.incident)).toHaveLength(2);
  });
});
