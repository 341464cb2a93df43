import { useSyncExternalStore } from 'react';
import type { LiveStore } from './live-store.js';

/** Re-renders the caller whenever the live store changes (at most once per stream message). */
export function useStoreVersion(store: LiveStore): number {
  return useSyncExternalStore(
    (listener) => store.subscribe(listener),
    () => store.version,
  );
}
