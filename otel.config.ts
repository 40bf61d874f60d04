// otelkit's configuration for this repository's examples (`npm run demo`), and a
// template for yours. Environment variables override anything set here; every
// key is optional. See the README's configuration table.
import { defineConfig } from 'otelkit';

export default defineConfig({
  // serviceName: 'checkout',
  // exporters: ['prometheus', 'otlp'],
  // prometheus: { host: '0.0.0.0', port: 9464, path: '/metrics' },
  // otlp: { endpoint: 'http://localhost:4318/v1/metrics', protocol: 'http/protobuf' },
  histogramBuckets: {
    // 'http.server.request.duration': [0.01, 0.05, 0.1, 0.5, 1],
  },
});
