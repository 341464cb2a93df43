/**
 * The console once signed in: the live map with its layers, the incident list and the summary strip for
 * operators; the history view for planners. It owns the live store and the stream that feeds it.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiClient } from '../api/client.js';
import { LAYER_NAMES, type Incident, type LayerName, type StreamMessage, type User } from '../api/types.js';
import { FeaturePanel } from '../details/FeaturePanel.js';
import { HistoryView } from '../history/HistoryView.js';
import { IncidentPanel } from '../incidents/IncidentPanel.js';
import { ReportForm } from '../incidents/ReportForm.js';
import { layerGroups, type LayerGroup } from '../layers/definitions.js';
import { storedLayerChoice, storeLayerChoice } from '../layers/layer-choice.js';
import { LayerPanel } from '../layers/LayerPanel.js';
import { ConnectionIndicator } from '../live/ConnectionIndicator.js';
import { LiveStore, ZONE_REFRESH_MS } from '../live/live-store.js';
import { LiveStream, type ConnectionState } from '../live/stream.js';
import type { MapController, Selection } from '../map/map-controller.js';
import { featureCentre } from '../map/label-points.js';
import { MapView } from '../map/MapView.js';
import { FeatureSearch } from '../search/FeatureSearch.js';
import { SummaryStrip } from '../summary/SummaryStrip.js';
import { HealthBadge } from './HealthBadge.js';
import { LanguageSwitch } from './LanguageSwitch.js';

type Mode = 'live' | 'history';
const MODES: readonly Mode[] = ['live', 'history'];
/** User Timing names: the main-thread time each stream message takes (store, diffs, markers), and when the layers arrived. */
export const STREAM_MEASURE = 'city:stream-message';
export const LAYERS_MARK = 'city:layers-loaded';

/** What the history view replays; the rest is hidden while it is open. */
const HISTORY_GROUPS: readonly LayerGroup['id'][] = ['traffic', 'zones'];
const NOT_IN_HISTORY = layerGroups()
  .map((group) => group.id)
  .filter((id) => !HISTORY_GROUPS.includes(id));
/** Sources the history view draws itself: live diffs must not overwrite them. */
const HISTORY_SOURCES: ReadonlySet<LayerName> = new Set(['traffic', 'zones']);

export function Console({ client, user, styleUrl, onLogout }: { client: ApiClient; user: User; styleUrl: string | null; onLogout: () => void }) {
  const { t } = useTranslation();
  const store = useMemo(() => new LiveStore(), []);
  const [controller, setController] = useState<MapController | undefined>();
  const [connection, setConnection] = useState<{ state: ConnectionState; retryAt?: number }>({ state: 'connecting' });
  const [selection, setSelection] = useState<Selection | undefined>();
  const [incidentId, setIncidentId] = useState<string | undefined>();
  const [reporting, setReporting] = useState(false);
  const [picked, setPicked] = useState<{ lon: number; lat: number } | undefined>();
  const [mode, setMode] = useState<Mode>('live');
  const [visible, setVisible] = useState(() => storedLayerChoice(layerGroups()));
  const [choropleth, setChoropleth] = useState<string | undefined>();
  const [loadError, setLoadError] = useState(false);
  const modeRef = useRef(mode);
  modeRef.current = mode;

  // The layers (geometry and names) and the stream load side by side, from before the map is built: building it
  // (a WebGL context, in software on a wall screen's PC) holds the main thread about 0.4 s, and the requests
  // used to wait for it. Messages wait for the map and the layers; then the snapshot brings everything up to date.
  const mapRef = useRef<MapController | undefined>(undefined);
  const deliver = useRef<() => void>(() => undefined);
  useLayoutEffect(() => {
    let active = true;
    let layersIn = false;
    /** The map that holds the layers: a new one (a remount) gets the store's whole state first. */
    let holder: MapController | undefined;
    const waiting: StreamMessage[] = [];
    const apply = (controller: MapController, message: StreamMessage) => {
      const start = performance.now();
      const diffs = store.apply(message);
      controller.applyDiffs(diffs, modeRef.current === 'history' ? HISTORY_SOURCES : undefined);
      controller.setFresh(store.freshIncidents());
      // A User Timing entry per message, for devtools and `npm run measure:console -w web`.
      performance.measure(STREAM_MEASURE, { start, detail: { type: message.type, devices: message.devices.length } });
    };
    deliver.current = () => {
      const controller = mapRef.current;
      if (!active || !layersIn || !controller) return;
      if (holder !== controller) {
        for (const name of LAYER_NAMES) controller.setData(name, store.collection(name));
        controller.setFresh(store.freshIncidents());
        if (!holder) performance.mark(LAYERS_MARK);
        holder = controller;
      }
      for (const message of waiting.splice(0)) apply(controller, message);
    };
    const stream = new LiveStream({
      url: () => client.streamUrl(),
      onMessage: (message) => {
        waiting.push(message);
        deliver.current();
      },
      onState: (state, retryInMs) => setConnection({ state, retryAt: retryInMs === undefined ? undefined : Date.now() + retryInMs }),
      stillAuthorised: () => client.me().then(() => true),
    });
    stream.start();
    Promise.all(LAYER_NAMES.map((name) => client.layer(name).then((collection) => [name, collection] as const)))
      .then((layers) => {
        if (!active) return;
        store.load(Object.fromEntries(layers));
        layersIn = true;
        deliver.current();
      })
      .catch(() => {
        if (!active) return;
        stream.stop();
        setLoadError(true);
      });
    const expiry = setInterval(() => {
      if (store.expireFresh()) holder?.setFresh(store.freshIncidents());
    }, 5000);
    // What the throttled zone summaries left out of the last messages.
    const zones = setInterval(() => holder?.applyDiffs(store.flushZones(), modeRef.current === 'history' ? HISTORY_SOURCES : undefined), ZONE_REFRESH_MS);
    return () => {
      active = false;
      clearInterval(expiry);
      clearInterval(zones);
      stream.stop();
    };
  }, [client, store]);

  useEffect(() => {
    mapRef.current = controller;
    deliver.current();
  }, [controller]);

  const select = useCallback(
    (next: Selection | undefined) => {
      if (next?.source === 'incidents') {
        const incident = store.incidents.get(next.id);
        setIncidentId(next.id);
        store.markSeen(next.id);
        controller?.setFresh(store.freshIncidents());
        if (incident) controller?.select(next);
        return;
      }
      setSelection(next);
      controller?.select(next);
    },
    [controller, store],
  );

  const selectIncident = (incident: Incident | undefined) => {
    setIncidentId(incident?.id);
    if (!incident) return;
    store.markSeen(incident.id);
    controller?.setFresh(store.freshIncidents());
    controller?.select({ source: 'incidents', id: incident.id });
    controller?.flyTo(incident.lon, incident.lat);
  };

  const incidentChanged = (incident: Incident) => {
    controller?.applyDiffs(store.applyIncident(incident));
    controller?.setFresh(store.freshIncidents());
  };

  const toggle = (id: LayerGroup['id'], on: boolean) => {
    const next = { ...visible, [id]: on };
    setVisible(next);
    storeLayerChoice(next);
    controller?.setGroupVisible(id, on);
  };

  const changeChoropleth = (metric: string | undefined) => {
    setChoropleth(metric);
    controller?.setChoropleth(metric);
  };

  const switchMode = (next: Mode) => {
    if (!controller || next === mode) return;
    setMode(next);
    setSelection(undefined);
    controller.select(undefined);
    if (next === 'history') {
      controller.suppress(NOT_IN_HISTORY);
      return;
    }
    controller.suppress([]);
    controller.setData('traffic', store.collection('traffic'));
    controller.setData('zones', store.collection('zones'));
    controller.setChoropleth(choropleth);
  };

  /** Flies to a device, segment or zone and opens its side panel (the summary strip, the search box). */
  const focusFeature = (target: Selection) => {
    const feature = store.feature(target.source, target.id);
    const centre = feature && featureCentre(feature);
    if (mode !== 'live') switchMode('live');
    select(target);
    if (centre) controller?.flyTo(centre[0], centre[1]);
  };

  // The ARIA tabs pattern: arrows, Home and End move between the modes and follow the focus.
  const tabKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    const index = MODES.indexOf(mode);
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: MODES.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const target = MODES[(next + MODES.length) % MODES.length]!;
    switchMode(target);
    document.getElementById(`mode-tab-${target}`)?.focus();
  };

  const logout = () => {
    void client.logout();
    onLogout();
  };

  return (
    <div className={`console mode-${mode}`}>
      <header className="topbar">
        <h1>{t('app.title')}</h1>
        <div className="mode-switch" role="tablist" aria-label={t('mode.label')}>
          {MODES.map((item) => (
            <button
              key={item}
              id={`mode-tab-${item}`}
              type="button"
              role="tab"
              aria-selected={mode === item}
              aria-controls="mode-panel"
              tabIndex={mode === item ? 0 : -1}
              className={mode === item ? 'active' : undefined}
              onClick={() => switchMode(item)}
              onKeyDown={tabKey}
            >
              {t(`mode.${item}`)}
            </button>
          ))}
        </div>
        <FeatureSearch store={store} onChoose={focusFeature} />
        <ConnectionIndicator state={connection.state} retryAt={connection.retryAt} store={store} />
        <HealthBadge client={client} />
        <div className="topbar-end">
          <LanguageSwitch />
          <span className="user">
            {user.username} · {t(`role.${user.role}`)}
          </span>
          <button type="button" onClick={logout}>
            {t('login.logout')}
          </button>
        </div>
      </header>
      <SummaryStrip store={store} onSegment={(id) => focusFeature({ source: 'traffic', id })} />
      {loadError && (
        <p className="banner" role="alert">
          {t('common.loadFailed')}
        </p>
      )}
      <div className="workspace" id="mode-panel" role="tabpanel" aria-labelledby={`mode-tab-${mode}`}>
        <LayerPanel groups={layerGroups()} visible={visible} onToggle={toggle} choropleth={choropleth} onChoropleth={changeChoropleth} disabled={mode === 'history' ? new Set(NOT_IN_HISTORY) : undefined} />
        <div className="map-area">
          <MapView styleUrl={styleUrl} visible={visible} onReady={setController} onSelect={select} onPick={(location) => (setReporting(false), setPicked(location))} />
          {reporting && <p className="map-hint" role="status">{t('incidents.pickHint')}</p>}
          {selection && mode === 'live' && <FeaturePanel selection={selection} store={store} client={client} onClose={() => select(undefined)} />}
        </div>
        <div className="sidebar">
          {mode === 'history' && controller ? (
            <HistoryView client={client} store={store} controller={controller} role={user.role} />
          ) : picked ? (
            <ReportForm
              client={client}
              location={picked}
              onCancel={() => setPicked(undefined)}
              onDone={(incident) => {
                setPicked(undefined);
                incidentChanged(incident);
                selectIncident(incident);
              }}
            />
          ) : (
            <IncidentPanel
              store={store}
              client={client}
              role={user.role}
              selectedId={incidentId}
              onSelect={selectIncident}
              onChanged={incidentChanged}
              reporting={reporting}
              onReport={() => {
                const next = !reporting;
                setReporting(next);
                controller?.setPicking(next);
              }}
            />
          )}
        </div>
      </div>
    </div>
  );
}
