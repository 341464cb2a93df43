/** The incident list's order and filters: the most severe first and, within a severity, the one waiting longest. */
import { SEVERITIES, type Incident, type Severity } from '../api/types.js';

export interface IncidentFilter {
  status: 'active' | 'open' | 'acknowledged';
  minSeverity: Severity;
  category: string | undefined;
}

export const DEFAULT_FILTER: IncidentFilter = { status: 'active', minSeverity: 'informational', category: undefined };

export function sortIncidents(incidents: Iterable<Incident>): Incident[] {
  return [...incidents].sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || a.openedAt - b.openedAt || a.id.localeCompare(b.id));
}

export function filterIncidents(incidents: Incident[], filter: IncidentFilter): Incident[] {
  const floor = SEVERITIES.indexOf(filter.minSeverity);
  return incidents.filter(
    (incident) =>
      incident.status !== 'resolved' &&
      (filter.status === 'active' || incident.status === filter.status) &&
      SEVERITIES.indexOf(incident.severity) >= floor &&
      (filter.category === undefined || incident.category === filter.category),
  );
}
