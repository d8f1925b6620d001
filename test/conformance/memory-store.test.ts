import { MemoryJobStore } from '../../src/store/memory-store.js';
import { jobStoreConformance } from './job-store.suite.js';
import { scheduleStoreConformance } from './schedule-store.suite.js';

jobStoreConformance('MemoryJobStore', async () => {
  const store = new MemoryJobStore();
  return { store, close: () => store.close() };
});

scheduleStoreConformance('MemoryJobStore', async () => {
  const store = new MemoryJobStore();
  return { store, close: () => store.close() };
});
