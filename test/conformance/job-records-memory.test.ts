import { MemoryJobStore } from '../../src/store/memory-store.js';
import { jobRecordsConformance } from './job-records.suite.js';

jobRecordsConformance('MemoryJobStore', async () => {
  const store = new MemoryJobStore();
  return { store, close: () => store.close() };
});
