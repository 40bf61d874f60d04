/**
 * OTLP/gRPC for the test receiver: a real @grpc/grpc-js server implementing
 * opentelemetry.proto.collector.metrics.v1.MetricsService/Export and the logs service's Export,
 * insecure, on 127.0.0.1.
 */
import * as grpc from '@grpc/grpc-js';
import type { Listener, OnExport } from '../otlp-receiver.js';
import { decodeLogs, decodeMetrics } from './decode.js';

const ENCODING_KEY = 'x-otlp-receiver-grpc-encoding';

/**
 * grpc-js strips `grpc-encoding` from the metadata a handler sees. So that tests can check
 * OTEL_EXPORTER_OTLP_COMPRESSION over gRPC, this copies the encoding grpc-js parsed (a private
 * `incomingEncoding` somewhere down the call chain, read defensively) into a metadata key.
 */
const exposeEncoding: grpc.ServerInterceptor = (_method, call) => {
  type Link = { incomingEncoding?: unknown; nextCall?: Link } | undefined;
  let link = call as unknown as Link;
  while (link && typeof link.incomingEncoding !== 'string') link = link.nextCall;
  const encoding = link?.incomingEncoding as string | undefined;
  return new grpc.ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMetadata: (metadata, mdNext) => {
          if (encoding) metadata.set(ENCODING_KEY, encoding);
          mdNext(metadata);
        },
      }),
  });
};

export async function startGrpcListener(
  port: number,
  onExport: OnExport,
  onError: (e: Error) => void,
): Promise<Listener> {
  const server = new grpc.Server({ interceptors: [exposeEncoding] });
  for (const signal of ['metrics', 'logs'] as const) {
    const service = signal === 'metrics' ? 'metrics.v1.MetricsService' : 'logs.v1.LogsService';
    const Export: grpc.MethodDefinition<Buffer, object> = {
      path: `/opentelemetry.proto.collector.${service}/Export`,
      requestStream: false,
      responseStream: false,
      // Decode in the handler, so a decode failure is recorded and answered with INVALID_ARGUMENT.
      requestDeserialize: (bytes) => bytes,
      requestSerialize: (bytes) => bytes,
      // Replies are always an empty Export*ServiceResponse: zero bytes.
      responseSerialize: () => Buffer.alloc(0),
      responseDeserialize: () => ({}),
    };
    const handler: grpc.handleUnaryCall<Buffer, object> = (call, callback) => {
      const contentEncoding = call.metadata.get(ENCODING_KEY)[0] as string | undefined;
      call.metadata.remove(ENCODING_KEY);
      let metrics: ReturnType<typeof decodeMetrics> = [];
      let logs: ReturnType<typeof decodeLogs> = [];
      try {
        if (signal === 'metrics') metrics = decodeMetrics(call.request, false);
        else logs = decodeLogs(call.request, false);
      } catch (e) {
        const err = new Error(`gRPC Export: cannot decode: ${(e as Error).message}`);
        onError(err);
        return callback({ code: grpc.status.INVALID_ARGUMENT, details: err.message });
      }
      const headers: Record<string, string> = {};
      for (const k of Object.keys(call.metadata.getMap())) headers[k] = call.metadata.get(k).map(String).join(', ');
      // grpc-js routes only application/grpc* and does not expose the exact content-type.
      const reply = onExport({
        protocol: 'grpc',
        signal,
        headers,
        contentType: 'application/grpc',
        contentEncoding,
        metrics,
        logs,
      });
      const send = () =>
        reply.grpcCode
          ? callback({ code: reply.grpcCode, details: reply.message ?? `status ${reply.grpcCode}` })
          : callback(null, {});
      if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
      else send();
    };
    server.addService({ Export }, { Export: handler });
  }
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000).unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
