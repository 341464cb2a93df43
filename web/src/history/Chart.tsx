/**
 * A time-series chart (uPlot): light enough to redraw on every update and to hold a day of minutes for
 * twenty zones. Times are shown on the city's clock; colours and labels come from the caller.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { CITY_TIME_ZONE, cityMidnight, cityDate, formatDateTime, formatDayMonth, formatNumber, formatTime } from '../i18n/format.js';

export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
  /** A second axis on the right for a series of another unit. */
  rightAxis?: boolean;
}

export interface ChartProps {
  /** Epoch ms. */
  times: number[];
  series: ChartSeries[];
  language: string;
  height?: number;
  /** Draws a vertical marker at this instant (the history view's current moment). */
  marker?: number;
  ariaLabel: string;
  /** The legend's name for the time column, translated. */
  timeLabel: string;
  /** The time axis' extent, epoch ms; by default the data's (which a single point makes meaningless). */
  range?: [number, number];
}

const AXIS = { stroke: '#9fb0c2', grid: { stroke: '#233040', width: 1 }, ticks: { stroke: '#233040' } };
const DAY_S = 86_400;

/**
 * Time ticks in the language's own conventions (uPlot's defaults are English): hours and minutes, with
 * the day and month at midnight, and only days when the ticks are a day or more apart.
 */
function timeTicks(language: string) {
  return (_plot: uPlot, ticks: number[], _axis: number, _space: number, increment: number) =>
    ticks.map((seconds) => {
      const ms = seconds * 1000;
      if (increment >= DAY_S) return formatDayMonth(language, ms);
      return cityMidnight(cityDate(ms)) === ms ? formatDayMonth(language, ms) : formatTime(language, ms);
    });
}

export function Chart({ times, series, language, height = 180, marker, ariaLabel, timeLabel, range }: ChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const markerRef = useRef(marker);
  // By value: a caller's fresh array each render must not rebuild the chart.
  const [rangeFrom, rangeTo] = range ?? [undefined, undefined];
  markerRef.current = marker;

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const hasRight = series.some((item) => item.rightAxis);
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), CITY_TIME_ZONE),
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, ...(rangeFrom !== undefined && rangeTo !== undefined ? { range: [rangeFrom / 1000, rangeTo / 1000] as uPlot.Range.MinMax } : {}) } },
      axes: [
        { ...AXIS, values: timeTicks(language) },
        { ...AXIS, scale: 'left', values: (_plot, ticks) => ticks.map((tick) => formatNumber(language, tick, 1)) },
        ...(hasRight ? [{ ...AXIS, scale: 'right', side: 1, grid: { show: false }, values: (_plot: uPlot, ticks: number[]) => ticks.map((tick) => formatNumber(language, tick, 0)) }] : []),
      ],
      series: [
        { label: timeLabel, value: (_plot: uPlot, seconds: number | null) => (seconds === null ? '—' : formatDateTime(language, seconds * 1000)) },
        ...series.map((item) => ({ label: item.label, stroke: item.color, width: 2, scale: item.rightAxis ? 'right' : 'left', spanGaps: false, value: (_plot: uPlot, value: number | null) => (value === null ? '—' : formatNumber(language, value, 1)) })),
      ],
      hooks: {
        draw: [
          (chart) => {
            const at = markerRef.current;
            if (at === undefined) return;
            const x = chart.valToPos(at / 1000, 'x', true);
            const context = chart.ctx;
            context.save();
            context.strokeStyle = '#ffffff';
            context.lineWidth = 2;
            context.beginPath();
            context.moveTo(x, chart.bbox.top);
            context.lineTo(x, chart.bbox.top + chart.bbox.height);
            context.stroke();
            context.restore();
          },
        ],
      },
    };
    const data: uPlot.AlignedData = [times.map((time) => time / 1000), ...series.map((item) => item.values)];
    plot.current = new uPlot(options, data, element);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, element.clientWidth), height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [times, series, language, timeLabel, height, rangeFrom, rangeTo]);

  useEffect(() => plot.current?.redraw(false), [marker]);

  return <div className="chart" ref={container} role="img" aria-label={ariaLabel} />;
}
