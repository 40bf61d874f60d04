// The byte counts of WebSocket messages: short strings are measured in JavaScript
// (utf8Length), and must equal what Buffer.byteLength says, for every kind of text.
import { describe, expect, it } from 'vitest';
import { byteSize, utf8Length } from '../../instrumentations/websocket/record.js';

const samples = [
  '',
  'hello',
  'héllo wörld',
  '€uro',
  'emoji 😀 pair',
  'lone \ud800 high',
  'lone \udc00 low',
  'end high \ud83d',
  '日本語のテキスト',
  'x'.repeat(200),
  'é'.repeat(100),
];

describe('WebSocket message byte sizes', () => {
  it.each(samples)('utf8Length(%j) equals Buffer.byteLength', (s) => {
    expect(utf8Length(s)).toBe(Buffer.byteLength(s));
    expect(byteSize(s)).toBe(Buffer.byteLength(s));
  });

  it('every code unit, alone and in pairs', () => {
    for (let c = 0; c < 0x10000; c += 7) {
      const s = String.fromCharCode(c);
      expect(utf8Length(s)).toBe(Buffer.byteLength(s));
      expect(utf8Length(`a${s}\udc00`)).toBe(Buffer.byteLength(`a${s}\udc00`));
    }
  });

  it('buffers, array buffers, views and fragment arrays by their byte length', () => {
    expect(byteSize(Buffer.alloc(10))).toBe(10);
    expect(byteSize(new ArrayBuffer(7))).toBe(7);
    expect(byteSize(new Uint16Array(4))).toBe(8);
    expect(byteSize([Buffer.alloc(3), Buffer.alloc(4)])).toBe(7);
    expect(byteSize(undefined)).toBe(0);
    expect(byteSize(42)).toBe(0);
  });
});
