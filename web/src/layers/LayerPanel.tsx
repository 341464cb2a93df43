import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { iconDataUrl } from '../incidents/icons.js';
import { formatNumber } from '../i18n/format.js';
import { CHOROPLETHS, LIVE_CHOROPLETHS } from '../map/choropleth.js';
import type { LayerGroup, LegendItem } from './definitions.js';

export interface LayerPanelProps {
  groups: LayerGroup[];
  visible: Record<string, boolean>;
  onToggle: (id: LayerGroup['id'], visible: boolean) => void;
  choropleth: string | undefined;
  onChoropleth: (metric: string | undefined) => void;
  /** Groups the current view cannot show (history), listed but disabled. */
  disabled?: ReadonlySet<string>;
}

function Swatch({ item }: { item: LegendItem }) {
  if (item.shape === 'icon' && item.icon) {
    const url = iconDataUrl(item.icon, item.color);
    return url ? <img className="swatch-icon" src={url} alt="" /> : <span className="swatch swatch-dot" style={{ background: item.color }} aria-hidden="true" />;
  }
  return <span className={`swatch swatch-${item.shape}`} style={{ background: item.color }} aria-hidden="true" />;
}

function rangeText(t: TFunction, language: string, range: NonNullable<LegendItem['range']>): string {
  const from = formatNumber(language, range.from, 1);
  return range.to === undefined ? t('legend.atLeast', { from }) : t('legend.range', { from, to: formatNumber(language, range.to, 1) });
}

export function LayerPanel({ groups, visible, onToggle, choropleth, onChoropleth, disabled }: LayerPanelProps) {
  const { t, i18n } = useTranslation();
  return (
    <nav className="layer-panel" aria-label={t('layers.title')}>
      <h2>{t('layers.title')}</h2>
      {groups.map((group) => {
        const off = disabled?.has(group.id) ?? false;
        return (
          <fieldset key={group.id} className={`layer-group${group.id === 'noise' ? ' layer-sub' : ''}`} disabled={off}>
            <label className="layer-toggle">
              <input type="checkbox" checked={visible[group.id] ?? false} onChange={(event) => onToggle(group.id, event.target.checked)} data-layer={group.id} />
              <span>{t(`layers.${group.id}`)}</span>
            </label>
            {visible[group.id] && !off && (
              <ul className="legend" aria-label={t('layers.legendOf', { layer: t(`layers.${group.id}`) })}>
                {group.legend.map((item) => (
                  <li key={`${item.label}-${item.range?.from ?? ''}`}>
                    <Swatch item={item} />
                    {t(item.label)}
                    {item.range ? ` ${rangeText(t, i18n.language, item.range)}` : ''}
                  </li>
                ))}
              </ul>
            )}
            {group.id === 'zones' && visible.zones && !off && (
              <label className="choropleth-select">
                {t('layers.choropleth')}
                <select value={choropleth ?? ''} onChange={(event) => onChoropleth(event.target.value || undefined)}>
                  <option value="">{t('layers.choroplethNone')}</option>
                  {LIVE_CHOROPLETHS.map((metric) => (
                    <option key={metric} value={metric}>
                      {t(`zoneMetric.${metric}`)}
                    </option>
                  ))}
                </select>
              </label>
            )}
            {group.id === 'zones' && visible.zones && !off && choropleth && CHOROPLETHS[choropleth] && <ChoroplethLegend metric={choropleth} />}
          </fieldset>
        );
      })}
    </nav>
  );
}

export function ChoroplethLegend({ metric }: { metric: string }) {
  const { t, i18n } = useTranslation();
  const steps = CHOROPLETHS[metric]?.steps ?? [];
  return (
    <ul className="legend" aria-label={t(`zoneMetric.${metric}`)}>
      {steps.map((step) => (
        <li key={step.from}>
          <span className="swatch swatch-area" style={{ background: step.color }} aria-hidden="true" />
          {t('legend.atLeast', { from: formatNumber(i18n.language, Math.ceil(step.from), 0) })}
        </li>
      ))}
    </ul>
  );
}
