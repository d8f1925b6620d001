import { MemoryJobStore } from '../../src/store/memory-store.js';
import { limitsConformance } from './limits.suite.js';

limitsConformance('MemoryJobStore', async () => {
  const store = new MemoryJobStore();
  return { store, close: () => store.close() };
});
