/**
 * A Meter that hands every call to `meter` and notes what each observable instrument
 * it creates is (name, unit, description, value type, kind), so a family can report
 * the same values itself at process exit (src/exit-observations.ts).
 */
import { ValueType, type Meter, type MetricOptions, type Observable } from '@opentelemetry/api';
import type { ExitInstrument, ObservableKind } from '../../src/exit-observations.js';

export function recordingMeter(meter: Meter, created: Map<Observable, ExitInstrument>): Meter {
  const note = <T extends Observable>(kind: ObservableKind, name: string, options: MetricOptions | undefined, o: T) => {
    created.set(o, {
      name,
      kind,
      description: options?.description ?? '',
      unit: options?.unit ?? '',
      valueType: options?.valueType ?? ValueType.DOUBLE,
    });
    return o;
  };
  return {
    createGauge: (name, options) => meter.createGauge(name, options),
    createHistogram: (name, options) => meter.createHistogram(name, options),
    createCounter: (name, options) => meter.createCounter(name, options),
    createUpDownCounter: (name, options) => meter.createUpDownCounter(name, options),
    createObservableGauge: (name, options) => note('gauge', name, options, meter.createObservableGauge(name, options)),
    createObservableCounter: (name, options) =>
      note('counter', name, options, meter.createObservableCounter(name, options)),
    createObservableUpDownCounter: (name, options) =>
      note('updowncounter', name, options, meter.createObservableUpDownCounter(name, options)),
    addBatchObservableCallback: (callback, observables) => meter.addBatchObservableCallback(callback, observables),
    removeBatchObservableCallback: (callback, observables) =>
      meter.removeBatchObservableCallback(callback, observables),
  };
}
