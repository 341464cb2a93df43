/**
 * Open incidents, the most severe and the longest waiting first; selecting one flies the map to it.
 * Operators acknowledge and resolve with a note and report new ones by clicking the map; a viewer
 * sees the same list without the actions.
 */
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiClient } from '../api/client.js';
import { FIWARE_CATEGORIES, SEVERITIES, type Incident, type Role, type Severity } from '../api/types.js';
import { hasRole } from '../auth/roles.js';
import { formatAge, formatDateTime } from '../i18n/format.js';
import { actionLabel, categoryLabel, incidentTypeLabel } from '../i18n/labels.js';
import { SEVERITY_COLORS } from '../layers/palette.js';
import type { LiveStore } from '../live/live-store.js';
import { useStoreValue } from '../live/use-store.js';
import { ErrorNote } from '../ui/ErrorNote.js';
import { DEFAULT_FILTER, filterIncidents, sortIncidents, type IncidentFilter } from './sort.js';

/** `other` stays filterable for incidents of earlier versions. */
const CATEGORIES = [...FIWARE_CATEGORIES, 'other'];
/** How often the ages ("5 minutes ago") move on when no incident changes. */
const AGE_TICK_MS = 30_000;

export interface IncidentPanelProps {
  store: LiveStore;
  client: ApiClient;
  role: Role;
  selectedId: string | undefined;
  onSelect: (incident: Incident | undefined) => void;
  onChanged: (incident: Incident) => void;
  reporting: boolean;
  onReport: () => void;
}

export function IncidentPanel({ store, client, role, selectedId, onSelect, onChanged, reporting, onReport }: IncidentPanelProps) {
  const { t, i18n } = useTranslation();
  // Device readings do not touch the list: it re-sorts only when an incident changes.
  const version = useStoreValue(store, () => store.incidentsVersion);
  const [filter, setFilter] = useState<IncidentFilter>(DEFAULT_FILTER);
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((tick) => tick + 1), AGE_TICK_MS);
    return () => clearInterval(timer);
  }, []);
  const all = useMemo(() => sortIncidents(store.incidents.values()), [store, version]);
  const shown = useMemo(() => filterIncidents(all, filter), [all, filter]);
  const zoneName = (id: string | null | undefined) => (id ? String(store.feature('zones', id)?.properties.name ?? id) : t('incidents.noZone'));
  const canAct = hasRole(role, 'operator');

  return (
    <section className="incident-panel" aria-labelledby="incidents-title">
      <header className="panel-header">
        <h2 id="incidents-title">
          {t('incidents.title')} <span className="count">{shown.length}</span>
        </h2>
        {canAct && (
          <button type="button" className={reporting ? 'primary active' : 'primary'} onClick={onReport} aria-pressed={reporting}>
            {t(reporting ? 'incidents.pickOnMap' : 'incidents.report')}
          </button>
        )}
      </header>
      <div className="filters" role="group" aria-label={t('incidents.filters')}>
        <label>
          {t('incidents.status')}
          <select value={filter.status} onChange={(event) => setFilter({ ...filter, status: event.target.value as IncidentFilter['status'] })}>
            <option value="active">{t('incidents.statusActive')}</option>
            <option value="open">{t('status.open')}</option>
            <option value="acknowledged">{t('status.acknowledged')}</option>
          </select>
        </label>
        <label>
          {t('incidents.minSeverity')}
          <select value={filter.minSeverity} onChange={(event) => setFilter({ ...filter, minSeverity: event.target.value as Severity })}>
            {SEVERITIES.map((severity) => (
              <option key={severity} value={severity}>
                {t(`severity.${severity}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('incidents.category')}
          <select value={filter.category ?? ''} onChange={(event) => setFilter({ ...filter, category: event.target.value || undefined })}>
            <option value="">{t('incidents.allCategories')}</option>
            {CATEGORIES.map((category) => (
              <option key={category} value={category}>
                {t(`category.${category}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {shown.length === 0 ? (
        <p className="muted empty">{t(all.length === 0 ? 'incidents.none' : 'incidents.noneMatch')}</p>
      ) : (
        <ol className="incident-list">
          {shown.map((incident) => (
            <li key={incident.id} className={`incident severity-${incident.severity}${incident.id === selectedId ? ' selected' : ''}${store.fresh.has(incident.id) ? ' fresh' : ''}`} data-incident={incident.id}>
              <button type="button" className="incident-summary" onClick={() => onSelect(incident.id === selectedId ? undefined : incident)} aria-expanded={incident.id === selectedId}>
                <span className="severity-bar" style={{ background: SEVERITY_COLORS[incident.severity] }} aria-hidden="true" />
                <span className="incident-main">
                  <span className="incident-type">{incidentTypeLabel(t, incident.type, incident.category)}</span>
                  <span className="incident-meta">
                    {t(`severity.${incident.severity}`)} · {zoneName(incident.zone)} · {formatAge(i18n.language, incident.openedAt)}
                  </span>
                </span>
                <span className={`status-chip status-${incident.status}`}>{t(`status.${incident.status}`)}</span>
              </button>
              {incident.id === selectedId && <IncidentDetails incident={incident} client={client} canAct={canAct} onChanged={onChanged} />}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function IncidentDetails({ incident, client, canAct, onChanged }: { incident: Incident; client: ApiClient; canAct: boolean; onChanged: (incident: Incident) => void }) {
  const { t, i18n } = useTranslation();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  const act = async (action: 'acknowledge' | 'resolve') => {
    setBusy(true);
    setError(undefined);
    try {
      onChanged(await (action === 'acknowledge' ? client.acknowledge(incident.id, note.trim()) : client.resolve(incident.id, note.trim())));
      setNote('');
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="incident-details">
      <p className="incident-description">{incident.description}</p>
      <dl>
        <dt>{t('incidents.openedAt')}</dt>
        <dd>{formatDateTime(i18n.language, incident.openedAt)}</dd>
        {incident.acknowledgedBy && (
          <>
            <dt>{t('incidents.acknowledgedBy')}</dt>
            <dd>
              {incident.acknowledgedBy}
              {incident.acknowledgedAt ? ` · ${formatDateTime(i18n.language, incident.acknowledgedAt)}` : ''}
            </dd>
          </>
        )}
        <dt>{t('incidents.category')}</dt>
        <dd>{categoryLabel(t, incident.category)}</dd>
      </dl>
      {incident.history && incident.history.length > 0 && (
        <ol className="incident-history" aria-label={t('incidents.history')}>
          {incident.history.map((entry) => (
            <li key={`${entry.at}-${entry.action}`}>
              <time dateTime={new Date(entry.at).toISOString()}>{formatDateTime(i18n.language, entry.at)}</time> {actionLabel(t, entry.action)} · {entry.actor}
              {entry.note ? `: ${entry.note}` : ''}
            </li>
          ))}
        </ol>
      )}
      {canAct && (
        <div className="incident-actions">
          <label>
            {t('incidents.note')}
            <textarea value={note} onChange={(event) => setNote(event.target.value)} rows={2} maxLength={1000} />
          </label>
          {error !== undefined && <ErrorNote failure={error} />}
          <div className="actions">
            {incident.status === 'open' && (
              <button type="button" className="primary" disabled={busy} onClick={() => void act('acknowledge')}>
                {t('incidents.acknowledge')}
              </button>
            )}
            <button type="button" disabled={busy} onClick={() => void act('resolve')}>
              {t('incidents.resolve')}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
