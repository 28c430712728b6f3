'use strict';
// The example app's traces: the OpenTelemetry JS SDK with manual spans, exported over
// OTLP/HTTP protobuf with the exporter's own defaults, as an app in a pod would run it:
// http://localhost:4318/v1/traces, where its covet-sidecar listens, unless the standard
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT says otherwise.
//
//   const tracing = startTracing({ enabled, version });
//   const { span, context } = tracing.startRequest(request, route);  // the SERVER span
//   const work = tracing.startWork(context, ms);                     // its child, for /work
//   tracing.finishRequest(span, { code });
//   await tracing.shutdown(ms);                                      // flush, bounded
//
// Disabled (--no-tracing, or OTEL_SDK_DISABLED=true as the SDK specification names it),
// the SDK is not even loaded: the API's no-op tracer makes spans that record nothing
// and whose trace id is invalid (all zeros).
//
// Spans are batched (BatchSpanProcessor: every 5 s or 512 spans; OTEL_BSP_* change that).
// An export that fails, because no collector listens for example, drops that batch and
// goes to the SDK's diagnostic logger, which is silent unless the app installs one; the
// app itself never waits on an export.

const api = require('@opentelemetry/api');
const {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} = require('@opentelemetry/semantic-conventions');

const { SpanKind, SpanStatusCode } = api;

// The OpenTelemetry SDK environment variable specification: "true", case-insensitive.
function disabledByEnv(env) {
  return (env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true';
}

function startTracing({ enabled, version }) {
  let provider = null;
  if (enabled) {
    // Loaded only when used, so that --no-tracing costs nothing.
    const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
    const { defaultResource, detectResources, envDetector, resourceFromAttributes } = require('@opentelemetry/resources');
    const { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } = require('@opentelemetry/semantic-conventions');
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, win over ours.
    const resource = defaultResource()
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'example-app', [ATTR_SERVICE_VERSION]: version }))
      .merge(detectResources({ detectors: [envDetector] }));
    provider = new NodeTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
    });
    // The global tracer provider, the AsyncLocalStorage context manager and the W3C
    // traceparent propagator.
    provider.register();
  }
  const tracer = api.trace.getTracer('example-app', version);

  return {
    // The request's SERVER span, a child of the caller's span when the request carries a
    // W3C traceparent header; `context` holds it, for child spans. Name and attributes
    // follow the HTTP server semantic conventions: "GET /work" for a route we serve (route),
    // the method alone for anything else, as a raw path would make span names unbounded.
    startRequest(request, route) {
      const parent = api.propagation.extract(api.ROOT_CONTEXT, request.headers);
      const attributes = {
        [ATTR_HTTP_REQUEST_METHOD]: request.method,
        [ATTR_URL_PATH]: new URL(request.url, 'http://127.0.0.1').pathname,
      };
      if (route) attributes[ATTR_HTTP_ROUTE] = route;
      const span = tracer.startSpan(
        route ? `${request.method} ${route}` : request.method,
        { kind: SpanKind.SERVER, attributes },
        parent,
      );
      return { span, context: api.trace.setSpan(parent, span) };
    },

    // code: the status sent, or undefined when the client went away before the answer.
    // 5xx is an error of ours; 4xx is the client's, and leaves a server span's status unset.
    finishRequest(span, { code }) {
      if (code === undefined) {
        span.addEvent('client closed the connection before the response');
      } else {
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, code);
        if (code >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${code}` });
      }
      span.end();
    },

    // The simulated work of /work, as a child of the request's span.
    startWork(context, ms) {
      return tracer.startSpan('work', { attributes: { 'work.ms': ms } }, context);
    },

    // The trace id to show elsewhere (metric exemplars), or undefined when the span is a
    // no-op one.
    traceIdOf(span) {
      const spanContext = span.spanContext();
      return api.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
    },

    // Exports what is still batched, then stops. Bounded by `ms`: a collector that accepts
    // the connection and never answers must not hold up the app's exit.
    async shutdown(ms) {
      if (!provider) return;
      let timer;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(resolve, ms);
      });
      await Promise.race([provider.shutdown().catch(() => {}), timeout]);
      clearTimeout(timer);
    },
  };
}

module.exports = { startTracing, disabledByEnv };
