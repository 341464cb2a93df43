/**
 * The device kinds and their telemetry, as data. Attribute names and units follow the
 * FIWARE Smart Data Models so that a city can map readings onto NGSI-LD without renaming.
 * Every other service derives its behaviour (validation, storage, docs) from this table.
 */

export type MetricType = 'float' | 'integer' | 'boolean' | 'enum';

export interface MetricSpec {
  readonly type: MetricType;
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** Required metrics must be present in every reading of the kind. */
  readonly required: boolean;
  readonly description: string;
}

export interface KindSpec {
  readonly smartDataModel: string;
  /** How often a device of this kind is expected to report; presence rules use 3 × this. */
  readonly reportingIntervalSeconds: number;
  readonly metrics: Readonly<Record<string, MetricSpec>>;
}

const float = (unit: string, min: number, max: number, description: string, required = true): MetricSpec => ({
  type: 'float',
  unit,
  min,
  max,
  required,
  description,
});

const pollutant = (description: string): MetricSpec => float('µg/m³', 0, 10_000, description, false);

export const KINDS = {
  traffic: {
    smartDataModel: 'TrafficFlowObserved',
    reportingIntervalSeconds: 60,
    metrics: {
      intensity: float('vehicles/h', 0, 20_000, 'Vehicles passing per hour'),
      averageVehicleSpeed: float('km/h', 0, 300, 'Mean speed of passing vehicles'),
      occupancy: float('1', 0, 1, 'Fraction of time the detection zone was occupied'),
      congested: { type: 'boolean', required: false, description: 'The sensor itself judges the flow congested' },
    },
  },
  air_quality: {
    smartDataModel: 'AirQualityObserved',
    reportingIntervalSeconds: 300,
    metrics: {
      pm25: pollutant('Particulate matter under 2.5 µm'),
      pm10: pollutant('Particulate matter under 10 µm'),
      no2: pollutant('Nitrogen dioxide'),
      o3: pollutant('Ozone'),
      so2: pollutant('Sulphur dioxide'),
      co: float('µg/m³', 0, 1_000_000, 'Carbon monoxide', false),
      temperature: float('°C', -40, 70, 'Air temperature', false),
      relativeHumidity: float('1', 0, 1, 'Relative humidity as a fraction', false),
    },
  },
  noise: {
    smartDataModel: 'NoiseLevelObserved',
    reportingIntervalSeconds: 60,
    metrics: {
      LAeq: float('dB(A)', 0, 200, 'A-weighted equivalent continuous sound level'),
      LAmax: float('dB(A)', 0, 200, 'A-weighted maximum sound level'),
    },
  },
  water_level: {
    smartDataModel: 'FloodMonitoring',
    reportingIntervalSeconds: 60,
    metrics: {
      currentLevel: float('m', -50, 100, 'Water level above the sensor reference'),
      rainfall: float('mm/h', 0, 1_000, 'Rainfall intensity', false),
    },
  },
  parking: {
    smartDataModel: 'OffStreetParking',
    reportingIntervalSeconds: 120,
    metrics: {
      occupiedSpotNumber: { type: 'integer', min: 0, max: 100_000, required: true, description: 'Spots in use' },
      totalSpotNumber: { type: 'integer', min: 0, max: 100_000, required: true, description: 'Spots in the site' },
    },
  },
  streetlight: {
    smartDataModel: 'Streetlight',
    reportingIntervalSeconds: 300,
    metrics: {
      powerState: { type: 'enum', values: ['on', 'off', 'low'], required: true, description: 'Lamp power state' },
      illuminanceLevel: float('1', 0, 1, 'Dimming level as a fraction of full output'),
      powerConsumption: float('W', 0, 10_000, 'Electrical power drawn'),
    },
  },
} as const satisfies Record<string, KindSpec>;

export type DeviceKind = keyof typeof KINDS;

export const DEVICE_KINDS = Object.keys(KINDS) as DeviceKind[];

export function isDeviceKind(value: unknown): value is DeviceKind {
  return typeof value === 'string' && Object.hasOwn(KINDS, value);
}

export function kindSpec(kind: DeviceKind): KindSpec {
  return KINDS[kind];
}
