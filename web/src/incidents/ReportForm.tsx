import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiClient } from '../api/client.js';
import { FIWARE_CATEGORIES, SEVERITIES, type Incident, type Severity } from '../api/types.js';
import { formatNumber } from '../i18n/format.js';
import { ErrorNote } from '../ui/ErrorNote.js';

/** What an operator can report by hand, with the FIWARE Alert category it usually belongs to (the operator may change it). */
export const REPORTABLE: { type: string; category?: string }[] = [
  { type: 'accident', category: 'traffic' },
  { type: 'congestion', category: 'traffic' },
  { type: 'road_obstruction', category: 'traffic' },
  { type: 'flooding', category: 'naturalDisaster' },
  { type: 'fallen_tree', category: 'weather' },
  { type: 'air_pollution', category: 'environment' },
  // A dark stretch of road is a road hazard, as the api files streetlight faults.
  { type: 'streetlight_fault', category: 'traffic' },
  { type: 'other' },
];

export function ReportForm({ client, location, onDone, onCancel }: { client: ApiClient; location: { lon: number; lat: number }; onDone: (incident: Incident) => void; onCancel: () => void }) {
  const { t, i18n } = useTranslation();
  const [type, setType] = useState(REPORTABLE[0]!.type);
  const [category, setCategory] = useState(REPORTABLE[0]!.category ?? '');
  const [severity, setSeverity] = useState<Severity>('medium');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onDone(await client.reportIncident({ type, category, severity, description: description.trim() || t(`incidentType.${type}`), ...location }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const coordinate = (value: number) => formatNumber(i18n.language, value, 5);
  return (
    <form className="report-form" onSubmit={(event) => void submit(event)} aria-labelledby="report-title">
      <h3 id="report-title">{t('report.title')}</h3>
      <p className="muted">{t('report.at', { lon: coordinate(location.lon), lat: coordinate(location.lat) })}</p>
      <label>
        {t('report.type')}
        <select
          value={type}
          onChange={(event) => {
            setType(event.target.value);
            setCategory(REPORTABLE.find((item) => item.type === event.target.value)?.category ?? '');
          }}
          autoFocus
        >
          {REPORTABLE.map((item) => (
            <option key={item.type} value={item.type}>
              {t(`incidentType.${item.type}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('report.category')}
        <select value={category} onChange={(event) => setCategory(event.target.value)} required>
          <option value="" disabled>
            {t('report.chooseCategory')}
          </option>
          {FIWARE_CATEGORIES.map((item) => (
            <option key={item} value={item}>
              {t(`category.${item}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('report.severity')}
        <select value={severity} onChange={(event) => setSeverity(event.target.value as Severity)}>
          {[...SEVERITIES].reverse().map((level) => (
            <option key={level} value={level}>
              {t(`severity.${level}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('report.description')}
        <textarea value={description} onChange={(event) => setDescription(event.target.value)} rows={3} maxLength={1000} />
      </label>
      {error !== undefined && <ErrorNote failure={error} />}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {t('report.submit')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}
