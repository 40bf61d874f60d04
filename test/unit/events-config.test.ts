// The events settings: the OTELKIT_EVENTS grammar, how switch rules decide, the mapping's
// validation (one line per problem, only the entry at fault left out), the log protocol and endpoint.
import { describe, expect, it } from 'vitest';
import { Invalid, eventSwitches } from '../../src/config/parsers.js';
import { resolveConfig } from '../../src/config/resolve.js';
import type { OtelkitUserConfig } from '../../src/config/types.js';
import { Switches } from '../../instrumentations/events/switches.js';

const fromFile = (config: OtelkitUserConfig) => resolveConfig({}, [{ label: 'otel.config.ts', config }]);

describe('OTELKIT_EVENTS', () => {
  it.each([
    ['all', ['all']],
    ['none', ['none']],
    ['-trading', ['all', '-trading']],
    ['trading,auth', ['none', 'trading', 'auth']],
    ['trading.*, -trading.debug', ['none', 'trading', '-trading.debug']],
    ['+auth', ['none', 'auth']],
    ['-a,all,-b', ['all', '-b']],
    ['none,trading', ['none', 'trading']],
    ['', ['all']],
  ])('%j is %j', (raw, rules) => {
    expect(eventSwitches(raw)).toEqual(rules);
  });

  it('rejects what is not a list of names, on one line naming what is accepted', () => {
    expect(eventSwitches('trad ing')).toBeInstanceOf(Invalid);
    expect(eventSwitches('-')).toBeInstanceOf(Invalid);
    const { config, problems } = resolveConfig({ OTELKIT_EVENTS: 'a,b c' }, []);
    expect(problems).toEqual([
      'OTELKIT_EVENTS="a,b c" is invalid: expected a comma list of all, none, a module or event name (on) ' +
        'and -name (off), e.g. -trading or trading,auth; using all',
    ]);
    expect(config.events.switches).toEqual(['all']);
  });

  it('env beats the config file', () => {
    const { config } = resolveConfig({ OTELKIT_EVENTS: '-auth' }, [
      { label: 'otel.config.ts', config: { events: { switches: ['none', 'auth'] } } },
    ]);
    expect(config.events.switches).toEqual(['all', '-auth']);
    expect(fromFile({ events: { switches: 'none,auth' } }).config.events.switches).toEqual(['none', 'auth']);
  });
});

describe('switch rules', () => {
  const switches = (rules: string[], modules: Record<string, string[]> = {}) => {
    const s = new Switches();
    s.configure(rules, modules);
    return s;
  };

  it('match an event by name, dotted prefix or declared module; the last match wins', () => {
    const s = switches(['all', '-trading', 'trading.order.placed', '-auth'], { auth: ['user.*', 'session.closed'] });
    expect(s.enabled('trading.order.cancelled')).toBe(false);
    expect(s.enabled('trading.order.placed')).toBe(true);
    expect(s.enabled('trading')).toBe(false);
    expect(s.enabled('tradingdesk.open')).toBe(true); // a prefix ends at a dot
    expect(s.enabled('user.login')).toBe(false);
    expect(s.enabled('session.closed')).toBe(false);
    expect(s.enabled('session.opened')).toBe(true);
    expect(s.enabled('auth')).toBe(false);
    expect(s.enabled()).toBe(true);
  });

  it('runtime switches come after the configured ones; without a name they switch everything', () => {
    const s = switches(['none', 'trading']);
    expect(s.enabled('trading.x')).toBe(true);
    expect(s.enabled('auth.x')).toBe(false);
    s.set('auth', true);
    s.set('trading', false);
    expect(s.enabled('auth.x')).toBe(true);
    expect(s.enabled('trading.x')).toBe(false);
    s.set('trading', true);
    expect(s.enabled('trading.x')).toBe(true);
    s.set(undefined, false);
    expect([s.enabled(), s.enabled('trading.x'), s.enabled('auth.x')]).toEqual([false, false, false]);
    s.set('auth', true);
    expect([s.enabled('trading.x'), s.enabled('auth.x')]).toEqual([false, true]);
    s.set(undefined, true);
    expect(s.enabled('anything')).toBe(true); // the configured `none` is overridden too
  });
});

describe('events.metrics', () => {
  it('valid entries are kept, attributes sorted with their defaults', () => {
    const { config, problems } = fromFile({
      events: {
        metrics: {
          'order.placed': [
            { metric: 'orders.placed', attributes: ['side', 'market'] },
            { metric: 'orders.amount', type: 'histogram', unit: '{EUR}', value: 'amount', attributes: { market: 'x' } },
          ],
          'session.closed': { metric: 'sessions', type: 'updowncounter', value: -1 },
          'audit.only': [],
        },
      },
    });
    expect(problems).toEqual([]);
    expect(config.events.metrics).toEqual({
      'order.placed': [
        {
          metric: 'orders.placed',
          type: 'counter',
          unit: '',
          description: '',
          attributes: [
            ['market', 'unknown'],
            ['side', 'unknown'],
          ],
        },
        {
          metric: 'orders.amount',
          type: 'histogram',
          unit: '{EUR}',
          description: '',
          attributes: [['market', 'x']],
          value: 'amount',
        },
      ],
      'session.closed': [
        { metric: 'sessions', type: 'updowncounter', unit: '', description: '', attributes: [], value: -1 },
      ],
      'audit.only': [],
    });
  });

  it('one line per problem, naming where it is; only the entry at fault is left out', () => {
    const { config, problems } = fromFile({
      events: {
        metrics: {
          a: [{ metric: 'ok.one' }, { metric: '9lives' }, { metric: 'x', type: 'summary' as never }],
          b: { metric: 'y', attributes: [1] as never, colour: 'red' } as never,
          c: { metric: 'task.runs' },
          d: { metric: 'ok.one', type: 'gauge' },
          e: { metric: 'z', type: 'histogram', value: -1 },
          f: 'orders' as never,
        },
        sink: 'db' as never,
        colour: 'red',
      } as never,
    });
    expect(problems).toEqual([
      'otel.config.ts: unknown setting "events.colour" ignored; known settings: ' +
        'metrics, modules, switches, sink, logExporters, logProtocol',
      'otel.config.ts: events.metrics["a"][1].metric="9lives" is invalid: expected an instrument name ' +
        '(a letter, then letters, digits, _ . - /), e.g. orders.placed; ignoring this metric',
      'otel.config.ts: events.metrics["a"][2].type="summary" is invalid: ' +
        'expected one of counter, histogram, updowncounter, gauge; ignoring this metric',
      'otel.config.ts: events.metrics["b"]: unknown key "colour" ignored; ' +
        'known: metric, type, unit, description, attributes, value',
      'otel.config.ts: events.metrics["b"].attributes=[1] is invalid: expected a list of attribute names, ' +
        "or name → value when missing, e.g. { market: 'unknown' }; ignoring this metric",
      'otel.config.ts: events.metrics["c"].metric="task.runs" is invalid: ' +
        "expected a name outside the namespaces of otelkit's own metrics " +
        '(otelkit. task. http. cache. rate_limiter. circuit_breaker. nodejs. v8js. process. ' +
        'queue.job messaging. websocket.server. session.); ignoring this metric',
      'otel.config.ts: events.metrics["d"]: "ok.one" is already fed by "a" as a counter (unit "", attributes none); ' +
        'a metric fed by several events needs the same type, unit and attribute names; ignoring this one',
      'otel.config.ts: events.metrics["e"].value=-1 is invalid: expected a number >= 0 for a histogram; ' +
        'ignoring this metric',
      'otel.config.ts: events.metrics["f"]="orders" is invalid: expected { metric, type?, unit?, attributes?, ' +
        'value? }; ignoring it',
      'otel.config.ts: events.sink="db" is invalid: expected a function (event) => …; ignoring it',
    ]);
    expect(problems.every((p) => !p.includes('\n'))).toBe(true);
    expect(config.events.metrics.a!.map((m) => m.metric)).toEqual(['ok.one']);
    expect(config.events.metrics.b).toEqual([]);
    expect(config.events.sink).toBeUndefined();
  });

  it('register() options win over the config file, whole', () => {
    const sink = () => {};
    const { config } = resolveConfig({}, [
      { label: 'register()', config: { events: { metrics: { a: { metric: 'from.register' } }, sink } } },
      {
        label: 'otel.config.ts',
        config: { events: { metrics: { b: { metric: 'from.file' } }, modules: { m: ['a'] } } },
      },
    ]);
    expect(Object.keys(config.events.metrics)).toEqual(['a']);
    expect(config.events.modules).toEqual({ m: ['a'] });
    expect(config.events.sink).toBe(sink);
  });

  it('modules: lists of names or prefixes', () => {
    const { config, problems } = fromFile({ events: { modules: { auth: ['user.*'], bad: 'user' as never } } });
    expect(config.events.modules).toEqual({ auth: ['user.*'] });
    expect(problems).toEqual([
      'otel.config.ts: events.modules["bad"]="user" is invalid: expected a list of event names or prefixes ' +
        '(prefix.*) under a dotted module name; ignoring it',
    ]);
  });
});

describe('log export settings', () => {
  it('OTEL_LOGS_EXPORTER; protocol from the logs variable, the generic one or the config, not the metrics one', () => {
    expect(resolveConfig({ OTEL_LOGS_EXPORTER: 'otlp,console' }, []).config.events.logExporters).toEqual([
      'otlp',
      'console',
    ]);
    expect(resolveConfig({ OTEL_LOGS_EXPORTER: 'none' }, []).config.events.logExporters).toEqual([]);
    const protocol = (env: Record<string, string>, file: OtelkitUserConfig = {}) =>
      resolveConfig(env, [{ label: 'otel.config.ts', config: file }]).config.events.logProtocol;
    expect(protocol({})).toBe('http/protobuf');
    expect(protocol({ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' })).toBe('http/protobuf');
    expect(protocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe('grpc');
    expect(protocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json' })).toBe(
      'http/json',
    );
    expect(protocol({}, { otlp: { protocol: 'grpc' } })).toBe('grpc');
    expect(protocol({}, { otlp: { protocol: 'grpc' }, events: { logProtocol: 'http/json' } })).toBe('http/json');
  });

  it('the endpoint: the logs variable as given, else the base endpoint with /v1/logs (HTTP), else localhost', () => {
    const endpoint = (env: Record<string, string>) => resolveConfig(env, []).config.events.logEndpoint;
    expect(endpoint({})).toBe('http://localhost:4318/v1/logs');
    expect(endpoint({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe('http://localhost:4317');
    expect(endpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe('http://collector:4318/v1/logs');
    expect(endpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe(
      'http://c:4317/',
    );
    expect(
      endpoint({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://logs:9/in', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' }),
    ).toBe('http://logs:9/in');
    const { problems } = resolveConfig({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'nope' }, []);
    expect(problems).toEqual([
      'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT="nope" is invalid: expected an http:// or https:// URL, ' +
        'e.g. http://collector:4318; ignoring it',
    ]);
  });
});
