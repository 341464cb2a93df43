import { cleanup } from '@testing-library/react';
import { afterEach, beforeAll } from 'vitest';
import { initI18n } from '../../src/i18n/i18n.js';

beforeAll(async () => {
  await initI18n('vi');
});
afterEach(() => cleanup());
