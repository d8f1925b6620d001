import { MemoryFlagStore } from '../../src/flags/store/memory.js';
import { flagStoreSuite } from '../conformance/flag-store.suite.js';

flagStoreSuite('memory', () => new MemoryFlagStore());
