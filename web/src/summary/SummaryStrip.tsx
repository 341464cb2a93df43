import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import { SEVERITIES, type Severity } from '../api/types.js';
import { formatNumber } from '../i18n/format.js';
import { AQI_BANDS, CONGESTION_COLORS, SEVERITY_COLORS } from '../layers/palette.js';
import type { LiveStore } from '../live/live-store.js';
import { useThrottledStoreValue } from '../live/use-store.js';
import { citySummary, stableSummary, type CitySummary } from './summary.js';

/**
 * The city at a glance. The summary is read once a second, as fresh as a wall screen needs, and the strip
 * re-renders only when a figure it shows changed, each part only for its own figures.
 */
export function SummaryStrip({ store, onSegment }: { store: LiveStore; onSegment: (id: string) => void }) {
  const { t } = useTranslation();
  const summary = useThrottledStoreValue(store, 1000, (previous: CitySummary | undefined) => stableSummary(previous, citySummary(store)));
  return (
    <section className="summary" aria-label={t('summary.title')}>
      <DeviceCounts online={summary.online} offline={summary.offline} />
      <IncidentCounts incidents={summary.incidents} />
      <WorstAqi worst={summary.worstAqiZone} />
      <Congested congested={summary.congested} onSegment={onSegment} />
    </section>
  );
}

function useNumber(): (value: number) => string {
  const { i18n } = useTranslation();
  return (value) => formatNumber(i18n.language, value, 0);
}

const DeviceCounts = memo(function DeviceCounts({ online, offline }: { online: number; offline: number }) {
  const { t } = useTranslation();
  const number = useNumber();
  return (
    <div className="summary-item" data-testid="summary-devices">
      <span className="summary-label">{t('summary.devices')}</span>
      <span className="summary-value">
        <span className="ok">{t('summary.online', { count: online, value: number(online) })}</span>
        {' · '}
        <span className={offline > 0 ? 'warn' : undefined}>{t('summary.offline', { count: offline, value: number(offline) })}</span>
      </span>
    </div>
  );
});

const IncidentCounts = memo(function IncidentCounts({ incidents }: { incidents: Record<Severity, number> }) {
  const { t } = useTranslation();
  const number = useNumber();
  return (
    <div className="summary-item" data-testid="summary-incidents">
      <span className="summary-label">{t('summary.openIncidents')}</span>
      <span className="summary-value severities">
        {[...SEVERITIES].reverse().map((severity) => (
          <span key={severity} className="severity-count" style={{ borderColor: SEVERITY_COLORS[severity] }}>
            <span className="severity-name">{t(`severity.${severity}`)}</span> {number(incidents[severity])}
          </span>
        ))}
      </span>
    </div>
  );
});

const WorstAqi = memo(function WorstAqi({ worst }: { worst: CitySummary['worstAqiZone'] }) {
  const { t } = useTranslation();
  const number = useNumber();
  const band = worst ? AQI_BANDS[worst.category - 1] : undefined;
  return (
    <div className="summary-item" data-testid="summary-aqi">
      <span className="summary-label">{t('summary.worstAqi')}</span>
      <span className="summary-value">
        {worst && band ? (
          <>
            <span className="aqi-chip" style={{ background: band.color, color: worst.category >= 4 ? '#fff' : '#0b1118' }}>
              {number(worst.aqi)}
            </span>{' '}
            {worst.name} · {t(`aqi.${band.key}`)}
          </>
        ) : (
          t('summary.noData')
        )}
      </span>
    </div>
  );
});

const Congested = memo(function Congested({ congested, onSegment }: { congested: CitySummary['congested']; onSegment: (id: string) => void }) {
  const { t, i18n } = useTranslation();
  return (
    <div className="summary-item summary-congested" data-testid="summary-congestion">
      <span className="summary-label">{t('summary.congested')}</span>
      <span className="summary-value">
        {congested.length === 0
          ? t('summary.flowing')
          : congested.map((segment) => (
              <button type="button" key={segment.id} className="link" onClick={() => onSegment(segment.id)}>
                <span className="swatch" style={{ background: CONGESTION_COLORS[segment.congestion as keyof typeof CONGESTION_COLORS] }} aria-hidden="true" />
                {i18n.language === 'en' ? segment.nameEn : segment.name}
                {segment.speed !== null && ` (${formatNumber(i18n.language, segment.speed, 0)} ${t('units.kmh')})`}
              </button>
            ))}
      </span>
    </div>
  );
});
