/**
 * The attribute set of the one series that takes the place of new attribute sets once
 * an instrument's cardinality limit is reached: the SDK's convention, which otelkit's
 * own aggregations (the cumulation, the HTTP series tables) follow.
 */
import type { Attributes } from '@opentelemetry/api';

export const OVERFLOW_KEY = 'otel.metric.overflow';
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ [OVERFLOW_KEY]: true });
