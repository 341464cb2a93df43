import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { ReportForm } from '../../src/incidents/ReportForm.js';
import { incident } from './fixtures.js';

function renderForm() {
  const client = new ApiClient();
  const report = vi.spyOn(client, 'reportIncident').mockResolvedValue(incident({ id: 'new-1' }));
  const onDone = vi.fn();
  render(<ReportForm client={client} location={{ lon: 108.22, lat: 16.06 }} onDone={onDone} onCancel={vi.fn()} />);
  return { report, onDone };
}

describe('report form', () => {
  it('files a type under its usual FIWARE category', async () => {
    const { report, onDone } = renderForm();
    fireEvent.change(screen.getByLabelText('Loại sự cố'), { target: { value: 'streetlight_fault' } });
    expect((screen.getByLabelText('Lĩnh vực') as HTMLSelectElement).value).toBe('traffic');
    fireEvent.click(screen.getByRole('button', { name: 'Gửi báo cáo' }));
    await vi.waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(report.mock.calls[0]![0]).toMatchObject({ type: 'streetlight_fault', category: 'traffic', lon: 108.22, lat: 16.06 });
  });

  it('asks the operator to choose a category for an unlisted type, and sends what was chosen', async () => {
    const { report, onDone } = renderForm();
    fireEvent.change(screen.getByLabelText('Loại sự cố'), { target: { value: 'other' } });
    const category = screen.getByLabelText('Lĩnh vực') as HTMLSelectElement;
    expect(category.value).toBe('');
    expect(category.required).toBe(true);
    fireEvent.change(category, { target: { value: 'security' } });
    fireEvent.click(screen.getByRole('button', { name: 'Gửi báo cáo' }));
    await vi.waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(report.mock.calls[0]![0]).toMatchObject({ type: 'other', category: 'security' });
  });
});
