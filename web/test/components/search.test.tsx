import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { LiveStore } from '../../src/live/live-store.js';
import { FeatureSearch } from '../../src/search/FeatureSearch.js';
import { searchFeatures } from '../../src/search/search.js';
import { LAYERS } from './fixtures.js';

function store(): LiveStore {
  const live = new LiveStore();
  live.load(LAYERS);
  return live;
}

describe('finding a feature by keyboard', () => {
  it('matches ids and names without case or Vietnamese diacritics, and English road names in English', () => {
    expect(searchFeatures(store(), 'hai chau', 'vi').map((result) => [result.source, result.id])).toEqual([
      ['zones', 'hai-chau'],
      ['environment', 'air-1'],
    ]);
    expect(searchFeatures(store(), 'dragon', 'en')).toMatchObject([{ source: 'traffic', id: 'cau-rong', name: 'Dragon Bridge', kindKey: 'panel.segment' }]);
    expect(searchFeatures(store(), 'AIR-1', 'vi')).toMatchObject([{ source: 'environment', id: 'air-1', kindKey: 'kind.air_quality' }]);
    expect(searchFeatures(store(), 'x', 'vi')).toEqual([]);
  });

  it('moves through the matches with the arrow keys and chooses one with Enter', () => {
    const onChoose = vi.fn();
    render(<FeatureSearch store={store()} onChoose={onChoose} />);
    const box = screen.getByRole('combobox', { name: 'Tìm thiết bị, đoạn đường, khu vực' });
    fireEvent.change(box, { target: { value: 'hải' } });
    const options = screen.getAllByRole('option');
    expect(options.map((option) => option.getAttribute('aria-selected'))).toEqual(['true', 'false']);
    fireEvent.keyDown(box, { key: 'ArrowDown' });
    expect(box.getAttribute('aria-activedescendant')).toBe(screen.getAllByRole('option')[1]!.id);
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(onChoose).toHaveBeenCalledWith({ source: 'environment', id: 'air-1' });
    expect(screen.queryByRole('listbox')).toBeNull();
  });

  it('says when nothing matches', () => {
    render(<FeatureSearch store={store()} onChoose={vi.fn()} />);
    fireEvent.change(screen.getByRole('combobox'), { target: { value: 'không có' } });
    expect(screen.getByRole('option').textContent).toBe('Không tìm thấy');
  });
});
