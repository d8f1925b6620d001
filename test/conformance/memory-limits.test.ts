import { MemoryJobStore } from '../../src/store/memory-store.js';
import { limitsHousekeepingConformance } from './limits-housekeeping.suite.js';
import { limitsConformance } from './limits.suite.js';

limitsConformance('MemoryJobStore', async () => {
  const store = new MemoryJobStore();
  return { store, close: () => store.close() };
});

limitsHousekeepingConformance('MemoryJobStore', async () => {
  const store = new MemoryJobStore();
  return { store, close: () => store.close() };
});
