/**
 * The planner's view: pick a day (or a week), scrub or play it back while the map shows traffic and the
 * zones as they were, compare zones over the range, and download what is shown as CSV.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiClient } from '../api/client.js';
import type { Role } from '../api/types.js';
import { hasRole } from '../auth/roles.js';
import { cityDate, formatDateTime, formatNumber } from '../i18n/format.js';
import { ChoroplethLegend } from '../layers/LayerPanel.js';
import type { LiveStore } from '../live/live-store.js';
import type { MapController } from '../map/map-controller.js';
import { Chart, type ChartSeries } from './Chart.js';
import { historyRange, loadHistory, trafficAt, zonesAt, zonesCsv, ZONE_METRICS, type HistoryFrames, type ZoneMetric } from './history-data.js';

const PLAY_FRAME_MS = 600;
const ZONE_COLORS = ['#4fc3f7', '#ffb74d', '#81c784', '#e57373', '#ba68c8', '#fff176', '#4db6ac', '#f06292', '#a1887f', '#90a4ae'];

export function HistoryView({ client, store, controller, role }: { client: ApiClient; store: LiveStore; controller: MapController; role: Role }) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const [date, setDate] = useState(() => cityDate(Date.now()));
  const [days, setDays] = useState(1);
  const [metric, setMetric] = useState<ZoneMetric>('pm25');
  const [frames, setFrames] = useState<HistoryFrames | 'loading' | 'error'>('loading');
  const [index, setIndex] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [downloadError, setDownloadError] = useState(false);
  // The layers' geometry and names, as the live view last had them.
  const base = useRef({ traffic: store.collection('traffic'), zones: store.collection('zones') });
  const range = useMemo(() => historyRange(date, days), [date, days]);

  useEffect(() => {
    let active = true;
    setFrames('loading');
    setPlaying(false);
    const { traffic, zones } = base.current;
    loadHistory(client, range, metric, zones.features.map((zone) => zone.id), traffic.features.map((segment) => segment.id)).then(
      (loaded) => {
        if (!active) return;
        setFrames(loaded);
        setIndex(Math.max(0, loaded.times.length - 1));
      },
      () => active && setFrames('error'),
    );
    return () => {
      active = false;
    };
  }, [client, range, metric]);

  useEffect(() => {
    if (typeof frames === 'string' || frames.times.length === 0) return;
    const at = Math.min(index, frames.times.length - 1);
    controller.setData('traffic', trafficAt(frames, at, base.current.traffic));
    controller.setData('zones', zonesAt(frames, at, base.current.zones));
  }, [controller, frames, index]);

  useEffect(() => {
    controller.setChoropleth(metric);
  }, [controller, metric]);

  useEffect(() => {
    if (!playing || typeof frames === 'string') return;
    const timer = setInterval(() => {
      setIndex((current) => {
        if (current + 1 >= frames.times.length) {
          setPlaying(false);
          return current;
        }
        return current + 1;
      });
    }, PLAY_FRAME_MS);
    return () => clearInterval(timer);
  }, [playing, frames]);

  const zoneName = (id: string) => String(base.current.zones.features.find((zone) => zone.id === id)?.properties.name ?? id);
  // The zones with data in the range: what the chart draws and the CSV holds.
  const shownZones = useMemo(() => (typeof frames === 'string' ? [] : [...frames.zones.entries()].filter(([, values]) => values.some((value) => value !== null))), [frames]);
  const series: ChartSeries[] = useMemo(() => shownZones.map(([zone, values], position) => ({ label: zoneName(zone), color: ZONE_COLORS[position % ZONE_COLORS.length]!, values })), [shownZones]);

  const download = async () => {
    setDownloadError(false);
    try {
      const blob = await zonesCsv(client, range, metric, shownZones.map(([zone]) => zone));
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = `${metric}-${date}-${days}d.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch {
      setDownloadError(true);
    }
  };

  const loaded = typeof frames === 'string' ? undefined : frames;
  const moment = loaded?.times[Math.min(index, loaded.times.length - 1)];

  return (
    <section className="history-view" aria-labelledby="history-title">
      <h2 id="history-title">{t('history.title')}</h2>
      <div className="history-controls">
        <label>
          {t('history.day')}
          <input type="date" lang={language} value={date} max={cityDate(Date.now())} onChange={(event) => event.target.value && setDate(event.target.value)} />
        </label>
        <label>
          {t('history.span')}
          <select value={days} onChange={(event) => setDays(Number(event.target.value))}>
            <option value={1}>{t('history.oneDay')}</option>
            <option value={7}>{t('history.sevenDays')}</option>
          </select>
        </label>
        <label>
          {t('history.metric')}
          <select value={metric} onChange={(event) => setMetric(event.target.value as ZoneMetric)}>
            {ZONE_METRICS.map((item) => (
              <option key={item.metric} value={item.metric}>
                {t(`metric.${item.metric}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {frames === 'loading' && <p className="muted">{t('common.loading')}</p>}
      {frames === 'error' && <p className="form-error">{t('history.failed')}</p>}
      {loaded && loaded.times.length > 0 && (
        <>
          <div className="time-control">
            <button type="button" className="primary" onClick={() => (index + 1 >= loaded.times.length ? (setIndex(0), setPlaying(true)) : setPlaying(!playing))} aria-pressed={playing}>
              {t(playing ? 'history.pause' : 'history.play')}
            </button>
            <input
              type="range"
              min={0}
              max={loaded.times.length - 1}
              value={Math.min(index, loaded.times.length - 1)}
              onChange={(event) => {
                setPlaying(false);
                setIndex(Number(event.target.value));
              }}
              aria-label={t('history.moment')}
              aria-valuetext={moment !== undefined ? formatDateTime(language, moment) : undefined}
              data-testid="history-slider"
            />
            <output className="history-moment" data-testid="history-moment">
              {moment !== undefined ? formatDateTime(language, moment) : ''}
            </output>
          </div>
          <p className="muted">{t('history.mapShows')}</p>
          <ChoroplethLegend metric={metric} />
          <h3>
            {t('history.zoneComparison')} — {t(`metric.${metric}`)}
            {loaded.unit ? ` (${loaded.unit})` : ''}
          </h3>
          {series.length === 0 ? (
            <p className="muted">{t('panel.noHistory')}</p>
          ) : (
            <Chart times={loaded.times} series={series} language={language} height={240} marker={moment} range={[range.from, range.to]} ariaLabel={t('history.zoneComparison')} timeLabel={t('chart.time')} />
          )}
          <ul className="zone-values">
            {series.map((item) => {
              const value = item.values[Math.min(index, item.values.length - 1)];
              return (
                <li key={item.label}>
                  <span className="swatch swatch-line" style={{ background: item.color }} aria-hidden="true" />
                  {item.label}: {value === null || value === undefined ? '—' : formatNumber(language, value, 1)}
                </li>
              );
            })}
          </ul>
          {hasRole(role, 'planner') && (
            <button type="button" onClick={() => void download()}>
              {t('history.downloadCsv')}
            </button>
          )}
          {downloadError && <p className="form-error">{t('history.downloadFailed')}</p>}
        </>
      )}
    </section>
  );
}
