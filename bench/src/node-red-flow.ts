/**
 * The Node-RED side of the ingest comparison: a settings file (loopback, no editor, plain credentials in the
 * user dir) and the flow a Node-RED user would build to store telemetry — `mqtt in` parsing JSON, a function
 * node that turns the reading into fields, a tag and a timestamp, and `influxdb out` writing InfluxDB 1.x.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_TELEMETRY } from '@city/devices';

export interface NodeRedFlowOptions {
  userDir: string;
  /** Node-RED's own HTTP port; it still listens with the editor off. */
  port: number;
  mqtt: { host: string; port: number; clientId: string; username: string; password: string };
  influx: { host: string; port: number; database: string; measurement: string };
}

/**
 * Topic `devices/<id>/telemetry`, payload `{"sentAt":…,"ts":…,<metrics>}`: the metrics become fields, the
 * device id a tag, and `ts` the point's time (the influxdb node takes a `time` field as the timestamp).
 */
const TO_POINT = `const deviceId = msg.topic.split('/')[1];
const { ts, sentAt, ...fields } = msg.payload;
fields.time = ts;
msg.payload = [fields, { device_id: deviceId }];
return msg;`;

export function writeNodeRedFiles(options: NodeRedFlowOptions): { settingsFile: string } {
  const { userDir, port, mqtt, influx } = options;
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    httpAdminRoot: false,
    httpNodeRoot: false,
    flowFile: 'flows.json',
    // Credentials stay in plain flows_cred.json, which this file writes.
    credentialSecret: false,
    // Info level, so that the runtime's "Connected to broker" line tells when the flow is live; the bench reads the log rather than showing it.
    logging: { console: { level: 'info', metrics: false, audit: false } },
    diagnostics: { enabled: false },
    runtimeState: { enabled: false },
    telemetry: { enabled: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
    editorTheme: { projects: { enabled: false } },
  };
  const settingsFile = join(userDir, 'settings.js');
  writeFileSync(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);

  const ids = { tab: 'bench-tab', broker: 'bench-broker', input: 'bench-mqtt-in', map: 'bench-to-point', influx: 'bench-influxdb', output: 'bench-influxdb-out' };
  const flow = [
    { id: ids.tab, type: 'tab', label: 'telemetry to InfluxDB', disabled: false },
    {
      id: ids.broker,
      type: 'mqtt-broker',
      name: 'city broker',
      broker: mqtt.host,
      port: String(mqtt.port),
      clientid: mqtt.clientId,
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '60',
      cleansession: true,
      autoUnsubscribe: true,
    },
    { id: ids.input, type: 'mqtt in', z: ids.tab, name: 'telemetry', topic: ALL_TELEMETRY, qos: '1', datatype: 'json', broker: ids.broker, nl: false, rap: true, rh: 0, inputs: 0, wires: [[ids.map]] },
    { id: ids.map, type: 'function', z: ids.tab, name: 'reading to point', func: TO_POINT, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [[ids.output]] },
    { id: ids.influx, type: 'influxdb', hostname: influx.host, port: String(influx.port), protocol: 'http', database: influx.database, name: 'city influxdb', usetls: false, influxdbVersion: '1.x' },
    { id: ids.output, type: 'influxdb out', z: ids.tab, influxdb: ids.influx, name: 'store', measurement: influx.measurement, precision: 'ms', retentionPolicy: '', wires: [] },
  ];
  writeFileSync(join(userDir, 'flows.json'), `${JSON.stringify(flow, null, 2)}\n`);
  writeFileSync(join(userDir, 'flows_cred.json'), `${JSON.stringify({ [ids.broker]: { user: mqtt.username, password: mqtt.password }, [ids.influx]: {} }, null, 2)}\n`);
  return { settingsFile };
}
