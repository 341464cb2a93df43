/**
 * Which layer groups are shown, remembered per browser: a wall screen that restarts at 3 a.m., or an operator
 * who reloads, comes back to the layers it showed rather than to the defaults.
 */
import type { LayerGroup } from './definitions.js';

const STORAGE_KEY = 'city.layers';

export type LayerChoice = Record<string, boolean>;

/** Each group's stored choice, or its default; a stored entry that is not a known group's boolean is ignored. */
export function storedLayerChoice(groups: readonly LayerGroup[]): LayerChoice {
  const stored = readStored();
  return Object.fromEntries(groups.map((group) => [group.id, typeof stored[group.id] === 'boolean' ? (stored[group.id] as boolean) : group.visible]));
}

export function storeLayerChoice(choice: LayerChoice): void {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(choice));
  } catch {
    // A full or disabled storage only costs remembering the choice.
  }
}

function readStored(): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(globalThis.localStorage?.getItem(STORAGE_KEY) ?? '{}');
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
