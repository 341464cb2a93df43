/**
 * The side panel for a clicked device, road segment or zone: who it is, its current values with units,
 * its status, and the last 24 hours from the history API.
 */
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiClient } from '../api/client.js';
import type { DeviceDetails, Properties } from '../api/types.js';
import { Chart, type ChartSeries } from '../history/Chart.js';
import { formatAge, formatDateTime } from '../i18n/format.js';
import { KIND_METRICS, METRICS, formatMetric } from '../layers/metrics.js';
import { AQI_BANDS, CONGESTION_COLORS } from '../layers/palette.js';
import type { LiveStore } from '../live/live-store.js';
import { useStoreVersion } from '../live/use-store.js';
import type { Selection } from '../map/map-controller.js';

const DAY_MS = 86_400_000;

interface ChartRequest {
  kind: string;
  key: 'device' | 'segment' | 'zone';
  id: string;
  metrics: { metric: string; rightAxis?: boolean; color: string }[];
}

function chartRequest(selection: Selection, kind: string, metric: string | undefined): ChartRequest | undefined {
  if (selection.source === 'traffic') {
    return { kind: 'traffic', key: 'segment', id: selection.id, metrics: [{ metric: 'averageVehicleSpeed', color: '#4fc3f7' }, { metric: 'intensity', color: '#ffb74d', rightAxis: true }] };
  }
  if (selection.source === 'zones') return { kind: 'air_quality', key: 'zone', id: selection.id, metrics: [{ metric: 'pm25', color: '#4fc3f7' }] };
  return metric ? { kind, key: 'device', id: selection.id, metrics: [{ metric, color: '#4fc3f7' }] } : undefined;
}

export function FeaturePanel({ selection, store, client, onClose }: { selection: Selection; store: LiveStore; client: ApiClient; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  useStoreVersion(store);
  const feature = store.feature(selection.source, selection.id);
  const properties = feature?.properties ?? {};
  const [details, setDetails] = useState<DeviceDetails | undefined>();
  const [history, setHistory] = useState<{ times: number[]; series: ChartSeries[]; range: [number, number] } | 'loading' | 'error'>('loading');
  const isDevice = selection.source !== 'traffic' && selection.source !== 'zones';
  const kind = String(properties.kind);
  const kindMetrics = KIND_METRICS[kind as keyof typeof KIND_METRICS] ?? [];
  // The first metric the device actually reports (a station may measure no PM2.5).
  const metric = kindMetrics.find((name) => typeof properties[name] === 'number') ?? kindMetrics[0];
  // Re-chart when the selection changes, not on every live update of its values.
  const request = useMemo(() => chartRequest(selection, kind, metric), [selection, kind, metric]);

  useEffect(() => {
    setDetails(undefined);
    if (isDevice) client.device(selection.id).then(setDetails, () => undefined);
  }, [client, selection.id, isDevice]);

  useEffect(() => {
    if (!request) return;
    let active = true;
    setHistory('loading');
    const to = Date.now();
    Promise.all(request.metrics.map((item) => client.history({ kind: request.kind, metric: item.metric, [request.key]: request.id, from: to - DAY_MS, to, every: '15m' })))
      .then((answers) => {
        if (!active) return;
        const times = answers[0]?.series[0]?.points.map(([time]) => time) ?? [];
        const series = answers.map((answer, index) => {
          const item = request.metrics[index]!;
          const unit = METRICS[item.metric]?.unit;
          return {
            label: `${t(`metric.${item.metric}`)}${unit ? ` (${t(unit)})` : ''}`,
            color: item.color,
            rightAxis: item.rightAxis,
            values: answer.series[0]?.points.map(([, value]) => value) ?? [],
          };
        });
        setHistory({ times, series, range: [to - DAY_MS, to] });
      })
      .catch(() => active && setHistory('error'));
    return () => {
      active = false;
    };
  }, [client, request, t]);

  const name = String(details?.name ?? properties.name ?? selection.id);
  const title = selection.source === 'traffic' && language === 'en' ? String(properties.nameEn ?? name) : name;
  const kindLabel = selection.source === 'traffic' ? t('panel.segment') : selection.source === 'zones' ? t('panel.zone') : t(`kind.${String(properties.kind)}`);

  return (
    <aside className="feature-panel" aria-labelledby="feature-title" data-testid="feature-panel">
      <header>
        <div>
          <p className="panel-kind">{kindLabel}</p>
          <h2 id="feature-title">{title}</h2>
          <p className="panel-id">{selection.id}</p>
        </div>
        <button type="button" className="close" onClick={onClose} aria-label={t('panel.close')}>
          ×
        </button>
      </header>
      <dl className="values">
        {status(properties, details)}
        {valueRows(selection, properties).map(([metric, value]) => (
          <div key={metric} className="value-row">
            <dt>{t(`metric.${metric}`)}</dt>
            <dd>{formatMetric(language, t, metric, value)}</dd>
          </div>
        ))}
      </dl>
      {request && (
        <section className="panel-chart" aria-label={t('panel.last24h')}>
          <h3>{t('panel.last24h')}</h3>
          {history === 'loading' ? (
            <p className="muted">{t('common.loading')}</p>
          ) : history === 'error' ? (
            <p className="muted">{t('panel.historyUnavailable')}</p>
          ) : history.times.length === 0 ? (
            <p className="muted">{t('panel.noHistory')}</p>
          ) : (
            <Chart times={history.times} series={history.series} language={language} range={history.range} ariaLabel={t('panel.last24h')} timeLabel={t('chart.time')} />
          )}
        </section>
      )}
    </aside>
  );

  function status(props: Properties, info: DeviceDetails | undefined) {
    if (selection.source === 'traffic') {
      const congestion = String(props.congestion ?? 'unknown');
      return (
        <>
          <div className="value-row">
            <dt>{t('panel.congestion')}</dt>
            <dd>
              <span className="swatch" style={{ background: CONGESTION_COLORS[congestion as keyof typeof CONGESTION_COLORS] ?? CONGESTION_COLORS.unknown }} aria-hidden="true" /> {t(`congestion.${congestion}`)}
            </dd>
          </div>
          <div className="value-row">
            <dt>{t('panel.sensors')}</dt>
            <dd>{t('panel.sensorsReporting', { reporting: props.reporting ?? 0, sensors: props.sensors ?? 0 })}</dd>
          </div>
        </>
      );
    }
    if (selection.source === 'zones') {
      return (
        <div className="value-row">
          <dt>{t('panel.devices')}</dt>
          <dd>{t('panel.zoneDevices', { online: props.online ?? 0, offline: props.offline ?? 0, devices: props.devices ?? 0 })}</dd>
        </div>
      );
    }
    const presence = String(props.presence ?? 'unknown');
    const band = typeof props.aqiCategory === 'number' ? AQI_BANDS[props.aqiCategory - 1] : undefined;
    return (
      <>
        <div className="value-row">
          <dt>{t('panel.status')}</dt>
          <dd className={`presence presence-${presence}`}>
            {t(`presence.${presence}`)}
            {info?.presenceSince ? ` · ${formatAge(language, info.presenceSince)}` : ''}
          </dd>
        </div>
        {typeof props.readingTs === 'number' && (
          <div className="value-row">
            <dt>{t('panel.readingAt')}</dt>
            <dd>{formatDateTime(language, props.readingTs)}</dd>
          </div>
        )}
        {typeof props.aqi === 'number' && band && (
          <div className="value-row">
            <dt>{t('metric.aqi')}</dt>
            <dd>
              <span className="aqi-chip" style={{ background: band.color, color: band.category >= 4 ? '#fff' : '#0b1118' }}>
                {props.aqi}
              </span>{' '}
              {t(`aqi.${band.key}`)}
              {typeof props.aqiPollutant === 'string' ? ` · ${t(`metric.${props.aqiPollutant}`)}` : ''}
            </dd>
          </div>
        )}
        {typeof props.flood === 'string' && (
          <div className="value-row">
            <dt>{t('panel.floodLevel')}</dt>
            <dd>{t(`flood.${props.flood}`)}</dd>
          </div>
        )}
        {props.kind === 'streetlight' && (
          <div className="value-row">
            <dt>{t('panel.lamp')}</dt>
            <dd>{props.fault ? t(`streetlight.${String(props.fault)}`) : t(`streetlight.${String(props.powerState ?? 'off')}`)}</dd>
          </div>
        )}
      </>
    );
  }
}

/** The measured values worth a row, in the kind's order; derived ones (AQI, flood) have their own rows. */
function valueRows(selection: Selection, properties: Properties): [string, unknown][] {
  if (selection.source === 'traffic') return ['averageVehicleSpeed', 'intensity', 'occupancy', 'speedLimit', 'capacity'].map((key) => [key, properties[key]]);
  if (selection.source === 'zones') return ['aqiMax', 'pm25Mean', 'noiseMean', 'openIncidents'].map((key) => [key, properties[key]]);
  const kind = properties.kind as keyof typeof KIND_METRICS | undefined;
  const metrics = kind ? KIND_METRICS[kind] : [];
  const rows: [string, unknown][] = metrics.filter((metric) => properties[metric] !== undefined).map((metric) => [metric, properties[metric]]);
  if (kind === 'parking' && typeof properties.occupancy === 'number') rows.push(['occupancy', properties.occupancy]);
  return rows;
}
