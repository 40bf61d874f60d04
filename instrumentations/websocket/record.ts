/**
 * One record per instrumented WebSocket server: plain integer fields the
 * per-message paths increment, read by observable instruments at collection
 * (the pattern of shared/targets.ts). Connection durations go to an in-place
 * histogram series per server.
 */
import { ValueType, type BatchObservableResult, type Meter, type Observable } from '@opentelemetry/api';
import type { OtelkitConfig } from '../../src/config/types.js';
import { InPlaceHistogram, type HistogramSeries } from '../../src/histograms/in-place-histogram.js';
import { Family } from '../shared/targets.js';
import { WEBSOCKET } from '../metric-names.js';

/** How a connection ended, from its close code (ws) or close reason (socket.io). */
export type CloseClass = 'normal' | 'going_away' | 'error' | 'abnormal';
export const CLOSE_CLASSES: readonly CloseClass[] = ['normal', 'going_away', 'error', 'abnormal'];

type NameAttrs = { 'websocket.server.name': string };

/** The figures of one server, as plain numbers (for a JSON snapshot). */
export interface WebSocketServerSnapshot {
  name: string;
  activeConnections: number;
  connectionsOpened: number;
  connectionsClosed: Record<CloseClass, number>;
  messagesReceived: number;
  messagesSent: number;
  bytesReceived: number;
  bytesSent: number;
  errors: number;
}

export class WebSocketRecord {
  active = 0;
  opened = 0;
  closedNormal = 0;
  closedGoingAway = 0;
  closedError = 0;
  closedAbnormal = 0;
  received = 0;
  sent = 0;
  bytesReceived = 0;
  bytesSent = 0;
  errors = 0;
  durationSeries: HistogramSeries | undefined;
  readonly attrs: NameAttrs;
  readonly closeAttrs: Record<CloseClass, NameAttrs & { 'websocket.close.class': CloseClass }>;
  readonly receivedAttrs: NameAttrs & { 'websocket.message.direction': 'received' };
  readonly sentAttrs: NameAttrs & { 'websocket.message.direction': 'sent' };

  constructor(readonly name: string) {
    this.attrs = Object.freeze({ 'websocket.server.name': name });
    const close = (c: CloseClass) => Object.freeze({ 'websocket.server.name': name, 'websocket.close.class': c });
    this.closeAttrs = {
      normal: close('normal'),
      going_away: close('going_away'),
      error: close('error'),
      abnormal: close('abnormal'),
    };
    this.receivedAttrs = Object.freeze({ 'websocket.server.name': name, 'websocket.message.direction': 'received' });
    this.sentAttrs = Object.freeze({ 'websocket.server.name': name, 'websocket.message.direction': 'sent' });
  }

  connectionOpened(): void {
    this.opened++;
    this.active++;
  }

  /** `openedAt` from performance.now() at open; undefined for connections adopted at instrumentation. */
  connectionClosed(cls: CloseClass, openedAt: number | undefined): void {
    this.active--;
    switch (cls) {
      case 'normal':
        this.closedNormal++;
        break;
      case 'going_away':
        this.closedGoingAway++;
        break;
      case 'error':
        this.closedError++;
        break;
      default:
        this.closedAbnormal++;
    }
    if (openedAt !== undefined && connectionDuration !== undefined)
      (this.durationSeries ??= connectionDuration.series(this.attrs)).record((performance.now() - openedAt) / 1000);
  }

  snapshot(): WebSocketServerSnapshot {
    return {
      name: this.name,
      activeConnections: this.active,
      connectionsOpened: this.opened,
      connectionsClosed: {
        normal: this.closedNormal,
        going_away: this.closedGoingAway,
        error: this.closedError,
        abnormal: this.closedAbnormal,
      },
      messagesReceived: this.received,
      messagesSent: this.sent,
      bytesReceived: this.bytesReceived,
      bytesSent: this.bytesSent,
      errors: this.errors,
    };
  }
}

let connectionDuration: InPlaceHistogram | undefined;
let instruments: Record<'active' | 'opened' | 'closed' | 'messages' | 'io' | 'errors', Observable> | undefined;

export const webSocketFamily = new Family<WebSocketRecord>({
  kind: 'WebSocket server',
  stats: {
    section: 'websockets',
    entry(r) {
      const { name, ...figures } = r.snapshot();
      return { name, window: 'since instrumented', ...figures };
    },
  },
  instruments(meter: Meter, config: OtelkitConfig): Observable[] {
    connectionDuration = new InPlaceHistogram(meter, config, {
      name: WEBSOCKET.connectionDuration.name,
      description: 'How long WebSocket connections stayed open',
      live: () => Array.from(webSocketFamily.live, (r) => r.durationSeries),
    });
    const counter = (c: { name: string; unit: string }, description: string) =>
      meter.createObservableCounter(c.name, { unit: c.unit, description, valueType: ValueType.INT });
    instruments = {
      active: meter.createObservableUpDownCounter(WEBSOCKET.activeConnections.name, {
        unit: WEBSOCKET.activeConnections.unit,
        description: 'WebSocket connections currently open',
        valueType: ValueType.INT,
      }),
      opened: counter(WEBSOCKET.connectionsOpened, 'WebSocket connections opened'),
      closed: counter(WEBSOCKET.connectionsClosed, 'WebSocket connections closed, by close-code class'),
      messages: counter(WEBSOCKET.messages, 'WebSocket messages, by direction (received or sent)'),
      io: counter(WEBSOCKET.io, 'WebSocket message payload bytes, by direction (received or sent)'),
      errors: counter(WEBSOCKET.errors, 'Errors on WebSocket connections'),
    };
    return Object.values(instruments);
  },
  observe(result: BatchObservableResult, r: WebSocketRecord): void {
    const i = instruments!;
    result.observe(i.active, r.active, r.attrs);
    result.observe(i.opened, r.opened, r.attrs);
    result.observe(i.closed, r.closedNormal, r.closeAttrs.normal);
    result.observe(i.closed, r.closedGoingAway, r.closeAttrs.going_away);
    result.observe(i.closed, r.closedError, r.closeAttrs.error);
    result.observe(i.closed, r.closedAbnormal, r.closeAttrs.abnormal);
    result.observe(i.messages, r.received, r.receivedAttrs);
    result.observe(i.messages, r.sent, r.sentAttrs);
    result.observe(i.io, r.bytesReceived, r.receivedAttrs);
    result.observe(i.io, r.bytesSent, r.sentAttrs);
    result.observe(i.errors, r.errors, r.attrs);
  },
});

/** The figures of every instrumented WebSocket server, for a JSON snapshot (/stats). */
export function webSocketSnapshot(): WebSocketServerSnapshot[] {
  return Array.from(webSocketFamily.live, (r) => r.snapshot());
}

/** RFC 6455 close codes: 1000 and 1005 (closed without a code) are normal, 1006 is no close frame at all. */
export function closeClassOfCode(code: unknown): CloseClass {
  switch (code) {
    case 1000:
    case 1005:
      return 'normal';
    case 1001:
      return 'going_away';
    case 1006:
      return 'abnormal';
    default:
      return 'error';
  }
}

/** Payload bytes of a message as ws hands it over or takes it: string, Buffer, ArrayBuffer, view or fragments. */
export function byteSize(data: unknown): number {
  if (typeof data === 'string') return data.length <= SHORT ? utf8Length(data) : Buffer.byteLength(data);
  if (data !== null && typeof data === 'object') {
    const n = (data as { byteLength?: unknown }).byteLength;
    if (typeof n === 'number') return n;
    if (Array.isArray(data)) {
      let sum = 0;
      for (const part of data) sum += byteSize(part);
      return sum;
    }
  }
  return 0;
}

/**
 * Strings up to this many UTF-16 units are measured in JavaScript: cheaper than a call
 * into Buffer for chat-sized messages.
 */
const SHORT = 64;

/** UTF-8 byte length of a string, as Buffer.byteLength computes it (a lone surrogate is 3 bytes, U+FFFD). */
export function utf8Length(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a pair: 2 units, 4 bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}
