import { afterAll, afterEach } from 'vitest';
import { runCleanups } from './cleanup.js';
import { removeFreshDirs } from './temp.js';

// Loaded before every test file (vitest.config.ts `setupFiles`): these hooks run after the file's own.
afterEach(runCleanups);
afterAll(removeFreshDirs);
