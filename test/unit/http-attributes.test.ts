// Unit checks of the small HTTP helpers.
import { describe, expect, it } from 'vitest';
import { KNOWN_METHODS, errorType, methodName } from '../../instrumentations/http-attributes.js';
import { splitHostPort } from '../../instrumentations/http-client.js';

describe('HTTP helpers', () => {
  it('methodName: the nine standard methods by exact name, anything else _OTHER', () => {
    for (const m of KNOWN_METHODS) expect(methodName(m)).toBe(m);
    for (const other of ['get', 'PROPFIND', 'QUERY', '', undefined, 42, 'toString'])
      expect(methodName(other)).toBe('_OTHER');
  });

  it('splitHostPort: names, IPv4, bracketed IPv6, with and without port', () => {
    expect(splitHostPort('example.com')).toEqual({ address: 'example.com', port: undefined });
    expect(splitHostPort('example.com:8080')).toEqual({ address: 'example.com', port: 8080 });
    expect(splitHostPort('127.0.0.1:3000')).toEqual({ address: '127.0.0.1', port: 3000 });
    expect(splitHostPort('[::1]:443')).toEqual({ address: '::1', port: 443 });
    expect(splitHostPort('[::1]')).toEqual({ address: '::1', port: undefined });
  });

  it('errorType: code, else class name, else _OTHER; never an unbounded message', () => {
    expect(errorType(Object.assign(new Error('connect ECONNREFUSED 1.2.3.4:5'), { code: 'ECONNREFUSED' }))).toBe(
      'ECONNREFUSED',
    );
    expect(errorType(new TypeError('x'))).toBe('TypeError');
    expect(errorType('boom')).toBe('_OTHER');
    expect(errorType({ code: 'x'.repeat(100) })).toBe('_OTHER');
  });
});
