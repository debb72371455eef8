import type { IntakeAdapter } from './adapter.js';
import { datadogAdapter } from './datadog.js';
import { otlpAdapter } from './otlp.js';
import { pyroscopeAdapter } from './pyroscope.js';
import { uploadAdapter } from './upload.js';

/** Every intake protocol the server accepts; the intake routes serve exactly these. */
export const INTAKE_ADAPTERS: readonly IntakeAdapter[] = [datadogAdapter, pyroscopeAdapter, uploadAdapter, otlpAdapter];
