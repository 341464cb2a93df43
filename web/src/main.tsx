import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@fontsource/be-vietnam-pro/400.css';
import '@fontsource/be-vietnam-pro/600.css';
import 'maplibre-gl/dist/maplibre-gl.css';
import './styles.css';
import { App } from './App.js';
import { loadConfig } from './config.js';
import { initI18n } from './i18n/i18n.js';

const [config] = await Promise.all([loadConfig(), initI18n()]);
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App config={config} />
  </StrictMode>,
);
