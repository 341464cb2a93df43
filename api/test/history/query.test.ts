import { describe, expect, it } from 'vitest';
import { SOURCES } from '../../src/history/plan.js';
import { numberLiteral, quoteIdentifier, quoteString, seriesStatements, tagIn, type SeriesRead } from '../../src/history/query.js';

const HOUR = 3_600_000;

describe('InfluxQL quoting', () => {
  it('escapes quotes and backslashes so that no value becomes syntax', () => {
    expect(quoteIdentifier('LAeq')).toBe('"LAeq"');
    expect(quoteIdentifier('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteString("hai-chau")).toBe("'hai-chau'");
    expect(quoteString("x' OR 1=1 --")).toBe("'x\\' OR 1=1 --'");
    expect(quoteString('\\')).toBe("'\\\\'");
    expect(tagIn('device_id', ['a', "b'"])).toBe(`("device_id" = 'a' OR "device_id" = 'b\\'')`);
    expect(tagIn('zone', ['son-tra'])).toBe(`"zone" = 'son-tra'`);
  });

  it('writes numbers without exponents', () => {
    expect([numberLiteral(50), numberLiteral(62.5), numberLiteral(1e-7), numberLiteral(-3)]).toEqual(['50', '62.5', '0.0000001', '-3']);
    expect(() => numberLiteral(Number.NaN)).toThrow();
  });
});

describe('seriesStatements', () => {
  const base: SeriesRead = {
    database: 'city',
    kind: 'air_quality',
    metric: 'pm25',
    agg: 'max',
    source: SOURCES.rollup_1h,
    edge: 10 * HOUR,
    range: { from: 0, to: 8 * HOUR },
    condition: `"zone" = 'hai-chau'`,
    everyMs: HOUR,
  };
  const tail = (columns: string, from: number, to: number) =>
    `(SELECT ${columns} FROM "city"."raw"."air_quality" WHERE "zone" = 'hai-chau' AND time >= ${from}ms AND time < ${to}ms GROUP BY time(3600000ms), "device_id", "zone" fill(none))`;

  it('reads settled intervals straight from the rollup, extremes from its extreme columns', () => {
    expect(seriesStatements(base)).toEqual([
      `SELECT max("pm25_max") AS "value" FROM "city"."rollup_1h"."air_quality" WHERE "zone" = 'hai-chau' AND time >= 0ms AND time < 28800000ms GROUP BY time(3600000ms) fill(none)`,
    ]);
  });

  it('reads the intervals from the edge on from raw, rolled up per device to the rollup interval', () => {
    expect(seriesStatements({ ...base, agg: 'mean', range: { from: 0, to: 12 * HOUR } })).toEqual([
      `SELECT mean("pm25") AS "value" FROM "city"."rollup_1h"."air_quality" WHERE "zone" = 'hai-chau' AND time >= 0ms AND time < 36000000ms GROUP BY time(3600000ms) fill(none)`,
      `SELECT mean("pm25") AS "value" FROM ${tail('mean("pm25") AS "pm25"', 10 * HOUR, 12 * HOUR)} WHERE time >= 36000000ms AND time < 43200000ms GROUP BY time(3600000ms) fill(none)`,
    ]);
  });

  it('joins rollup and raw in one subquery for the interval the edge falls in', () => {
    expect(seriesStatements({ ...base, agg: 'min', everyMs: 24 * HOUR, range: { from: 0, to: 24 * HOUR } })).toEqual([
      `SELECT min("pm25_min") AS "value" FROM ` +
        `(SELECT "pm25_min" FROM "city"."rollup_1h"."air_quality" WHERE "zone" = 'hai-chau' AND time >= 0ms AND time < 36000000ms GROUP BY *), ` +
        `${tail('min("pm25") AS "pm25_min"', 10 * HOUR, 24 * HOUR)} WHERE time >= 0ms AND time < 86400000ms GROUP BY time(86400000ms) fill(none)`,
    ]);
  });

  it('reads raw readings themselves when raw is the source', () => {
    expect(seriesStatements({ ...base, agg: 'p95', source: SOURCES.raw, edge: Infinity })).toEqual([
      `SELECT percentile("pm25", 95) AS "value" FROM "city"."raw"."air_quality" WHERE "zone" = 'hai-chau' AND time >= 0ms AND time < 28800000ms GROUP BY time(3600000ms) fill(none)`,
    ]);
  });
});
