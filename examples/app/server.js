#!/usr/bin/env node
'use strict';
// A small example HTTP app that covet-sidecar runs beside in the demo and the end-to-end
// tests. Node.js 20, prom-client and the OpenTelemetry JS SDK (npm ci --prefix examples/app
// installs them).
//
//   node examples/app/server.js [PORT] [--series N] [--frozen] [--no-tracing]
//
//   PORT          or APP_PORT; default 8000. Listens on 127.0.0.1 only: it stands in for an
//                 application in a pod, whose sidecar reaches it over loopback.
//   --series N    or APP_METRICS_SERIES=N: add a synthetic high-cardinality family
//                 (app_endpoint_requests_total{endpoint,method}) so that the whole /metrics
//                 page has about N series (benchmarks use 10000 and 100000).
//   --frozen      or APP_METRICS_FROZEN=1: every metric value is fixed at start: no default
//                 process_/nodejs_ metrics, no timers, requests are not counted, so /metrics
//                 is byte-identical between fetches (for tests that compare what a scraper
//                 stored with what was served). Still has every family type, exemplars,
//                 escaped label values, NaN and +Inf.
//   --no-tracing  or OTEL_SDK_DISABLED=true: no spans. Otherwise every request is traced
//                 (tracing.js) and the spans go, batched, over OTLP/HTTP protobuf to the
//                 SDK's default http://localhost:4318/v1/traces (the sidecar's receiver),
//                 or where OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT
//                 say. Nothing listening there is not an error: those spans are dropped.
//
//   GET /health/live   200 "ok"   (what the sidecar's `http` probe checks)
//   GET /metrics       prom-client's registry: OpenMetrics 1.0 (with trace_id exemplars on
//                      http_requests_total and http_request_duration_seconds) when Accept
//                      names application/openmetrics-text, else Prometheus text 0.0.4;
//                      gzip when Accept-Encoding allows it. Families: http_requests_total,
//                      http_request_duration_seconds, http_requests_in_flight,
//                      db_connections_active/idle, db_query_duration_seconds,
//                      cache_hits_total, cache_misses_total, app_jobs_processed_total,
//                      app_rate_limit_requests_per_second, app_info, process_*, nodejs_*
//   GET /              a short text naming the endpoints
//   GET /work?ms=N     waits N milliseconds (0..10000) to simulate work, then 200; else 400
//
// Spans: one SERVER span per request ("GET /work", http.request.method, url.path,
// http.response.status_code, status ERROR on 5xx), continuing the caller's trace when the
// request carries a W3C traceparent; /work adds a child span "work" (work.ms, an event when
// done).
//
// One log line per request on stderr. SIGTERM and SIGINT stop the server, export the spans
// still batched (at most 2 s) and exit 0. An exemplar's trace_id is the request's trace id:
// its span's, else its W3C traceparent's, else a random one.

const http = require('node:http');
const zlib = require('node:zlib');
const { parseArgs } = require('node:util');
const { createMetrics } = require('./metrics');
const { startTracing, disabledByEnv } = require('./tracing');

const MAX_WORK_MS = 10000;
// Route labels are bounded: any path we do not serve is counted as "other", so a scanner
// cannot grow the series set without limit.
const KNOWN_ROUTES = new Set(['/', '/health/live', '/metrics', '/work']);
const INDEX_TEXT = 'covet-sidecar example app: /health/live /metrics /work?ms=N\n';
const VERSION = require('./package.json').version;
const USAGE = 'usage: server.js [PORT] [--series N] [--frozen] [--no-tracing]';
// How long stopping waits for the last spans to be exported.
const TRACES_FLUSH_MS = 2000;

function fail(message) {
  process.stderr.write(`app: ${message}\n`);
  process.exit(1);
}

function parseOptions(argv, env) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        series: { type: 'string' },
        frozen: { type: 'boolean' },
        'no-tracing': { type: 'boolean' },
      },
    });
  } catch (error) {
    fail(`${error.message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) fail(USAGE);
  const portText = positionals[0] ?? env.APP_PORT ?? '8000';
  const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
  if (!(port > 0 && port < 65536)) fail(`port must be 1..65535, got '${portText}'`);
  const seriesText = values.series ?? env.APP_METRICS_SERIES ?? '0';
  if (!/^\d+$/.test(seriesText)) fail(`series must be a whole number, got '${seriesText}'`);
  const frozen = values.frozen ?? env.APP_METRICS_FROZEN === '1';
  const tracing = !(values['no-tracing'] ?? false) && !disabledByEnv(env);
  return { port, series: Number(seriesText), frozen, tracing };
}

// The trace id of a W3C traceparent header ("00-<32 hex>-<16 hex>-<2 hex>"), if valid.
function traceIdOf(request) {
  const match = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(
    request.headers.traceparent ?? '',
  );
  return match && !/^0+$/.test(match[1]) ? match[1] : undefined;
}

function send(response, code, body, headers = {}) {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
  response.writeHead(code, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': data.length,
    ...headers,
  });
  response.end(data); // Node drops the body of a HEAD response by itself
}

async function serveMetrics(request, response, metrics) {
  const openMetrics = (request.headers.accept ?? '').includes('application/openmetrics-text');
  const { contentType, body } = await metrics.render({ openMetrics });
  if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
    const compressed = await new Promise((resolve, reject) =>
      zlib.gzip(body, (error, out) => (error ? reject(error) : resolve(out))),
    );
    send(response, 200, compressed, {
      'Content-Type': contentType,
      'Content-Encoding': 'gzip',
      Vary: 'Accept-Encoding',
    });
  } else {
    send(response, 200, body, { 'Content-Type': contentType, Vary: 'Accept-Encoding' });
  }
}

function serveWork(url, response, tracing, context) {
  const text = url.searchParams.get('ms') ?? '0';
  if (!/^-?\d+$/.test(text)) return send(response, 400, 'ms must be an integer\n');
  const ms = Number(text);
  if (ms < 0 || ms > MAX_WORK_MS) return send(response, 400, `ms must be in 0..${MAX_WORK_MS}\n`);
  const span = tracing.startWork(context, ms);
  const timer = setTimeout(() => {
    span.addEvent('work done');
    span.end();
    send(response, 200, `worked ${ms} ms\n`);
  }, ms);
  response.once('close', () => {
    if (response.writableFinished) return;
    clearTimeout(timer); // the client went away first
    span.addEvent('client went away');
    span.end();
  });
  return undefined;
}

// context: the one holding the request's span, for child spans.
async function route(request, response, { metrics, tracing, context }) {
  const url = new URL(request.url, 'http://127.0.0.1');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return send(response, 405, 'only GET and HEAD\n', { Allow: 'GET, HEAD' });
  }
  switch (url.pathname) {
    case '/health/live':
      return send(response, 200, 'ok\n');
    case '/metrics':
      return serveMetrics(request, response, metrics);
    case '/':
      return send(response, 200, INDEX_TEXT);
    case '/work':
      return serveWork(url, response, tracing, context);
    default:
      return send(response, 404, 'not found\n');
  }
}

function handle(request, response, metrics, tracing) {
  const started = process.hrtime.bigint();
  metrics.requestStarted();
  const path = new URL(request.url, 'http://127.0.0.1').pathname;
  const known = KNOWN_ROUTES.has(path);
  const { span, context } = tracing.startRequest(request, known ? path : undefined);
  // 'close' comes once per response, after it finished or when the client went away. The
  // /metrics response was rendered before its own request is counted; that request shows
  // up in the next scrape, as with any client library.
  response.once('close', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const code = response.writableFinished ? response.statusCode : 499; // 499: client closed
    tracing.finishRequest(span, { code: response.writableFinished ? code : undefined });
    metrics.requestFinished({
      method: request.method,
      route: known ? path : 'other',
      code,
      seconds,
      traceId: tracing.traceIdOf(span) ?? traceIdOf(request),
    });
    process.stderr.write(
      `app: ${request.socket.remoteAddress} "${request.method} ${request.url} HTTP/${request.httpVersion}" ` +
        `${code} ${(seconds * 1000).toFixed(1)}ms\n`,
    );
  });
  route(request, response, { metrics, tracing, context }).catch((error) => {
    process.stderr.write(`app: ${request.method} ${request.url}: ${error.stack}\n`);
    if (!response.headersSent) send(response, 500, 'internal error\n');
    else response.destroy();
  });
}

// Where the OTLP exporter sends, for the start-up line only: the SDK decides.
function tracesEndpoint(env) {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces`;
  return 'http://localhost:4318/v1/traces';
}

async function main() {
  const options = parseOptions(process.argv.slice(2), process.env);
  const metrics = await createMetrics(options);
  const tracing = startTracing({ enabled: options.tracing, version: VERSION });
  const server = http.createServer((request, response) => handle(request, response, metrics, tracing));
  server.on('error', (error) => fail(`listen on 127.0.0.1:${options.port}: ${error.code}`));

  const stop = (signal) => {
    process.stderr.write(`app: ${signal}, stopping\n`);
    metrics.stop();
    // A slow /work request or an idle keep-alive connection must not hold up exit. The
    // spans of the requests cut short end in their 'close' events, before the flush.
    server.close(() => setImmediate(() => tracing.shutdown(TRACES_FLUSH_MS).then(() => process.exit(0))));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  server.listen(options.port, '127.0.0.1', () => {
    const mode = options.frozen ? ', frozen metrics' : '';
    const series = options.series ? `, about ${options.series} series` : '';
    const traces = options.tracing ? `, traces to ${tracesEndpoint(process.env)}` : ', no tracing';
    process.stderr.write(`app: listening on http://127.0.0.1:${options.port}${mode}${series}${traces}\n`);
  });
}

main().catch((error) => fail(error.stack));
