/**
 * The search box (ARIA combobox): type part of an id or name, move through the matches with the arrow
 * keys, Enter flies the map there and opens the side panel, Escape closes the list.
 */
import { useId, useMemo, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { LiveStore } from '../live/live-store.js';
import type { Selection } from '../map/map-controller.js';
import { searchFeatures, type SearchResult } from './search.js';

export function FeatureSearch({ store, onChoose }: { store: LiveStore; onChoose: (selection: Selection) => void }) {
  const { t, i18n } = useTranslation();
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState(false);
  const listId = useId();
  const results = useMemo(() => (open ? searchFeatures(store, query, i18n.language) : []), [store, query, i18n.language, open]);
  const expanded = open && query.trim().length >= 2;

  const choose = (result: SearchResult | undefined) => {
    if (!result) return;
    setOpen(false);
    setQuery(result.name);
    onChoose({ source: result.source, id: result.id });
  };

  const keyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      setOpen(true);
      if (results.length > 0) setActive((current) => (current + (event.key === 'ArrowDown' ? 1 : results.length - 1)) % results.length);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      choose(results[Math.min(active, results.length - 1)]);
    } else if (event.key === 'Escape') {
      setOpen(false);
    }
  };

  return (
    <div className="feature-search">
      <input
        type="search"
        role="combobox"
        aria-label={t('search.label')}
        placeholder={t('search.placeholder')}
        aria-expanded={expanded}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={expanded && results[active] ? `${listId}-${active}` : undefined}
        value={query}
        onChange={(event) => {
          setQuery(event.target.value);
          setActive(0);
          setOpen(true);
        }}
        onKeyDown={keyDown}
        onBlur={() => setOpen(false)}
      />
      {expanded && (
        <ul id={listId} role="listbox" className="search-results" aria-label={t('search.results')}>
          {results.length === 0 ? (
            <li className="muted" role="option" aria-disabled="true" aria-selected="false">
              {t('search.none')}
            </li>
          ) : (
            results.map((result, index) => (
              <li
                key={`${result.source}-${result.id}`}
                id={`${listId}-${index}`}
                role="option"
                aria-selected={index === active}
                className={index === active ? 'active' : undefined}
                // Before the input's blur closes the list.
                onMouseDown={(event) => {
                  event.preventDefault();
                  choose(result);
                }}
              >
                <span className="search-name">{result.name}</span>
                <span className="search-kind">
                  {t(result.kindKey)} · {result.id}
                </span>
              </li>
            ))
          )}
        </ul>
      )}
    </div>
  );
}
