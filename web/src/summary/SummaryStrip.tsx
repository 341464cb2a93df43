import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { SEVERITIES } from '../api/types.js';
import { formatNumber } from '../i18n/format.js';
import { AQI_BANDS, CONGESTION_COLORS, SEVERITY_COLORS } from '../layers/palette.js';
import type { LiveStore } from '../live/live-store.js';
import { useThrottledStoreVersion } from '../live/use-store.js';
import { citySummary } from './summary.js';

export function SummaryStrip({ store, onSegment }: { store: LiveStore; onSegment: (id: string) => void }) {
  const { t, i18n } = useTranslation();
  // The summary walks every device: once a second is as fresh as a wall screen needs.
  const version = useThrottledStoreVersion(store, 1000);
  const summary = useMemo(() => citySummary(store), [store, version]);
  const number = (value: number) => formatNumber(i18n.language, value, 0);
  const worst = summary.worstAqiZone;
  const band = worst ? AQI_BANDS[worst.category - 1] : undefined;
  return (
    <section className="summary" aria-label={t('summary.title')}>
      <div className="summary-item" data-testid="summary-devices">
        <span className="summary-label">{t('summary.devices')}</span>
        <span className="summary-value">
          <span className="ok">{t('summary.online', { count: summary.online, value: number(summary.online) })}</span>
          {' · '}
          <span className={summary.offline > 0 ? 'warn' : undefined}>{t('summary.offline', { count: summary.offline, value: number(summary.offline) })}</span>
        </span>
      </div>
      <div className="summary-item" data-testid="summary-incidents">
        <span className="summary-label">{t('summary.openIncidents')}</span>
        <span className="summary-value severities">
          {[...SEVERITIES].reverse().map((severity) => (
            <span key={severity} className="severity-count" style={{ borderColor: SEVERITY_COLORS[severity] }}>
              <span className="severity-name">{t(`severity.${severity}`)}</span> {number(summary.incidents[severity])}
            </span>
          ))}
        </span>
      </div>
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
      <div className="summary-item summary-congested" data-testid="summary-congestion">
        <span className="summary-label">{t('summary.congested')}</span>
        <span className="summary-value">
          {summary.congested.length === 0
            ? t('summary.flowing')
            : summary.congested.map((segment) => (
                <button type="button" key={segment.id} className="link" onClick={() => onSegment(segment.id)}>
                  <span className="swatch" style={{ background: CONGESTION_COLORS[segment.congestion as keyof typeof CONGESTION_COLORS] }} aria-hidden="true" />
                  {i18n.language === 'en' ? segment.nameEn : segment.name}
                  {segment.speed !== null && ` (${formatNumber(i18n.language, segment.speed, 0)} ${t('units.kmh')})`}
                </button>
              ))}
        </span>
      </div>
    </section>
  );
}
