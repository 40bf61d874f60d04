// Concurrent scrapes share one collection (single flight), on the standalone server
// and on metricsHandler, and each scraper still gets its own correct answer.
// Determinism: an observable gauge counts the collections, and its callback holds the
// first collection of a burst open until the server has seen every request of it.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import { Worker } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { diag, metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { metricsHandler, register, type OtelkitHandle } from '../../index.js';
import { serveScrape } from '../../src/exporters/prometheus-handler.js';
import { PrometheusReader } from '../../src/exporters/prometheus-reader.js';
import { sampleValue } from '../helpers/prom-text.js';

const TOKEN = 'burst-token';
const SCRAPES = 50;
/** Opens n connections; on 'send' writes a scrape on each, then wakes the main thread; posts back the raw answers. */
const SENDER = join(import.meta.dirname, '../fixtures/scrape-sender.cjs');
const auth = { authorization: `Bearer ${TOKEN}` };

let otel: OtelkitHandle;
let collections = 0;
let hold: Promise<void> | undefined;

beforeAll(async () => {
  otel = register({
    prometheus: { host: '127.0.0.1', port: 0, token: TOKEN },
    instrumentations: [],
    serviceName: 'burst',
  });
  await otel.ready;
  metrics
    .getMeter('test')
    .createObservableGauge('collections')
    .addCallback(async (result) => {
      const n = ++collections;
      await hold;
      result.observe(n);
    });
});
afterAll(() => otel.shutdown());

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

/**
 * SCRAPES authorized GETs, one HEAD and one without the token, all at once. The
 * collection is held until `arrived` has resolved: the server has seen all of them.
 */
async function burst(url: string, arrived: Promise<void>) {
  hold = arrived;
  const get = () => fetch(url, { headers: auth }).then(async (r) => ({ status: r.status, body: await r.text() }));
  const [gets, head, unauthorized] = await Promise.all([
    Promise.all(Array.from({ length: SCRAPES }, get)),
    fetch(url, { method: 'HEAD', headers: auth }).then(async (r) => ({
      status: r.status,
      length: r.headers.get('content-length'),
      body: await r.text(),
    })),
    fetch(url).then((r) => r.status),
  ]);
  hold = undefined;
  return { gets, head, unauthorized };
}

function expectOneSharedCollection(result: Awaited<ReturnType<typeof burst>>, before: number) {
  expect(collections - before).toBe(1);
  expect(result.gets.map((g) => g.status)).toEqual(Array(SCRAPES).fill(200));
  const body = result.gets[0]!.body;
  expect(result.gets.every((g) => g.body === body)).toBe(true);
  expect(sampleValue(body, 'collections', { otel_scope_name: 'test' })).toBe(before + 1);
  // HEAD: the headers a GET gets, no body.
  expect(result.head).toEqual({ status: 200, length: String(Buffer.byteLength(body)), body: '' });
  expect(result.unauthorized).toBe(401);
}

describe('concurrent scrapes share one collection', () => {
  it('standalone server: 50 GETs and a HEAD cost one collection; the request without the token gets 401', async () => {
    const { port, url } = otel.prometheusAddress!;
    const total = SCRAPES + 2;
    let seen = 0;
    let allArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (allArrived = resolve));
    // Published just before the server's 'request' handlers run, which join the collection synchronously.
    const onRequest = (message: unknown) => {
      const { server } = message as { server: Server };
      if ((server.address() as AddressInfo).port === port && ++seen === total) allArrived();
    };
    subscribe('http.server.request.start', onRequest);
    try {
      const before = collections;
      expectOneSharedCollection(await burst(url, arrived), before);
      expect(seen).toBe(total);
    } finally {
      unsubscribe('http.server.request.start', onRequest);
    }

    // A scrape after the collection settled starts a new one: nothing is cached.
    const res = await fetch(url, { headers: auth });
    expect(sampleValue(await res.text(), 'collections', { otel_scope_name: 'test' })).toBe(collections);
  });

  it("metricsHandler on the app's own server: the same", async () => {
    let seen = 0;
    let allArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (allArrived = resolve));
    const server = createServer((req, res) => {
      metricsHandler(req, res);
      if (++seen === SCRAPES + 2) allArrived();
    });
    try {
      const port = await listen(server);
      const before = collections;
      expectOneSharedCollection(await burst(`http://127.0.0.1:${port}/metrics`, arrived), before);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a failed collection: 500 to every scrape sharing it, logged once, the next scrape collects afresh', async () => {
    const reader = new PrometheusReader({ unitSuffixes: true, cardinalityLimit: 100 });
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter('own').createCounter('own.events').add(2);
    let seen = 0;
    let allArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (allArrived = resolve));
    const collect = vi.spyOn(reader, 'collect').mockImplementationOnce(async () => {
      await arrived;
      throw new Error('collection broke');
    });
    const errors = vi.spyOn(diag, 'error').mockImplementation(() => {});
    const server = createServer((req, res) => {
      serveScrape(reader, undefined, req, res);
      if (++seen === SCRAPES) allArrived();
    });
    try {
      const url = `http://127.0.0.1:${await listen(server)}/metrics`;
      const answers = await Promise.all(
        Array.from({ length: SCRAPES }, () => fetch(url).then(async (r) => [r.status, await r.text()])),
      );
      expect(answers).toEqual(Array(SCRAPES).fill([500, '# metrics collection failed\n']));
      expect(collect).toHaveBeenCalledTimes(1);
      expect(errors.mock.calls.filter(([message]) => message === 'otelkit: scrape failed')).toHaveLength(1);

      const next = await fetch(url);
      expect(next.status).toBe(200);
      expect(sampleValue(await next.text(), 'own_events_total')).toBe(2);
      expect(collect).toHaveBeenCalledTimes(2);
    } finally {
      errors.mockRestore();
      server.closeAllConnections();
      server.close();
      await provider.shutdown();
    }
  });

  it('scrapes read in one event-loop turn share a collection, though a collection never waits on I/O', async () => {
    // Without a hold, a collection runs in microtasks only, which Node drains after
    // every I/O callback. Here all requests are already in the kernel when the loop
    // next polls: the main thread is blocked while a worker thread sends them.
    const reader = new PrometheusReader({ unitSuffixes: true, cardinalityLimit: 100 });
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter('own').createCounter('own.events').add(3);
    const collect = vi.spyOn(reader, 'collect');
    let connections = 0;
    let allConnected!: () => void;
    const connected = new Promise<void>((resolve) => (allConnected = resolve));
    const server = createServer((req, res) => serveScrape(reader, undefined, req, res));
    server.on('connection', () => ++connections === SCRAPES && allConnected());
    const sent = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(SENDER, { workerData: { port: await listen(server), n: SCRAPES, sent } });
    try {
      await connected;
      worker.postMessage('send');
      expect(Atomics.wait(sent, 0, 0, 10_000)).toBe('ok');
      const answers = await new Promise<string[]>((resolve, reject) =>
        worker.once('message', resolve).once('error', reject),
      );
      expect(answers).toHaveLength(SCRAPES);
      expect(new Set(answers).size).toBe(1);
      expect(answers[0]).toMatch(/^HTTP\/1\.1 200 /);
      expect(answers[0]).toMatch(/\nown_events_total\{[^}]*\} 3\n/); // (the body is chunked)
      expect(collect.mock.calls.length).toBeGreaterThanOrEqual(1);
      expect(collect.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      await worker.terminate();
      server.closeAllConnections();
      server.close();
      await provider.shutdown();
    }
  });
});
