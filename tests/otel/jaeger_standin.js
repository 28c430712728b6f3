'use strict';
// A stand-in for Jaeger's OTLP/HTTP receiver, for tests: records every span it receives,
// decoded independently of the SDK (protobufjs with the official OTLP .proto files from
// @opentelemetry/otlp-grpc-exporter-base@0.38.0), and can be told to fail or be slow.
//
//   node jaeger_standin.js --port P [--fail-status 503 --fail-count K] [--retry-after S]
//       [--delay-ms D]
//
// Listens on 127.0.0.1:P.
//   POST /v1/traces   application/x-protobuf or application/json, gzip or not: 200 with an
//                     empty ExportTraceServiceResponse in the request's content type; 400 when
//                     the body does not decode, 415 for another content type. The first K
//                     requests get --fail-status instead (with Retry-After: S when given).
//   GET /spans        {"requestCount", "requests": [{status, contentType, contentEncoding,
//                     bytes, spans}], "spans": [span, ...]} — spans in the shape of
//                     canonical.js, each with its resource, in the order received.
//   GET /stats        {"requests", "accepted", "refused", "spans"}
//   POST /reset       forgets everything and re-arms the failure injection.
//   POST /inject?status=503&count=K&retry_after=S&delay_ms=D   changes the injection.
// One line per request on stderr. Spans are recorded before the 200 is sent.

const http = require('node:http');
const path = require('node:path');
const zlib = require('node:zlib');
const { parseArgs } = require('node:util');
const protobuf = require('protobufjs');
const { fromOtlpRequest } = require('./canonical');

const PROTOS = path.join(path.dirname(require.resolve('@opentelemetry/otlp-grpc-exporter-base/package.json')), 'build', 'protos');
const MAX_BODY = 64 * 1024 * 1024;

function loadTypes() {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTOS, target);
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
  return {
    request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  };
}

const args = parseArgs({
  options: {
    port: { type: 'string' },
    'fail-status': { type: 'string', default: '503' },
    'fail-count': { type: 'string', default: '0' },
    'retry-after': { type: 'string' },
    'delay-ms': { type: 'string', default: '0' },
  },
}).values;
if (!/^\d+$/.test(args.port || '')) {
  process.stderr.write('jaeger_standin: --port P is required\n');
  process.exit(2);
}

const types = loadTypes();
const injection = {
  status: Number(args['fail-status']),
  count: Number(args['fail-count']),
  retryAfter: args['retry-after'],
  delayMs: Number(args['delay-ms']),
};
let state;
function reset() {
  state = { requests: [], spans: [], failuresLeft: injection.count };
}
reset();

function decode(contentType, body) {
  if (contentType === 'application/x-protobuf') {
    const message = types.request.decode(body);
    return fromOtlpRequest(types.request.toObject(message, { longs: String, enums: Number }));
  }
  return fromOtlpRequest(JSON.parse(body.toString('utf8')));
}

function emptyResponse(contentType) {
  return contentType === 'application/json' ? Buffer.from('{}') : Buffer.from(types.response.encode({}).finish());
}

function send(res, status, headers, body) {
  res.writeHead(status, { 'content-length': body.length, ...headers });
  res.end(body);
}

function json(res, value) {
  send(res, 200, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(value)));
}

function receive(req, body, res, log) {
  const contentType = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  const contentEncoding = (req.headers['content-encoding'] || '').toLowerCase();
  const entry = { status: 0, contentType, contentEncoding, bytes: body.length, spans: 0, atMs: Date.now() };
  state.requests.push(entry);
  const answer = (status, headers, reply, note) => {
    entry.status = status;
    log(`${status} ${contentType || '-'} ${contentEncoding || 'identity'} ${body.length}B ${note}`);
    send(res, status, headers, reply);
  };
  if (state.failuresLeft > 0) {
    state.failuresLeft -= 1;
    const headers = injection.retryAfter !== undefined ? { 'retry-after': injection.retryAfter } : {};
    return answer(injection.status, headers, Buffer.from('injected failure\n'), 'injected failure');
  }
  if (contentType !== 'application/x-protobuf' && contentType !== 'application/json') {
    return answer(415, { 'content-type': 'text/plain' }, Buffer.from('unsupported content type\n'), 'refused');
  }
  let spans;
  try {
    const raw = contentEncoding === 'gzip' ? zlib.gunzipSync(body) : body;
    if (contentEncoding !== 'gzip' && contentEncoding !== '' && contentEncoding !== 'identity') {
      throw new Error(`unsupported content-encoding ${contentEncoding}`);
    }
    spans = decode(contentType, raw);
  } catch (error) {
    return answer(400, { 'content-type': 'text/plain' }, Buffer.from(`${error.message}\n`), `refused: ${error.message}`);
  }
  const request = state.requests.length;
  for (const span of spans) state.spans.push({ ...span, request });
  entry.spans = spans.length;
  return answer(200, { 'content-type': contentType }, emptyResponse(contentType), `${spans.length} spans`);
}

function control(req, res, url) {
  if (req.method === 'GET' && url.pathname === '/spans') {
    return json(res, { requestCount: state.requests.length, requests: state.requests, spans: state.spans });
  }
  if (req.method === 'GET' && url.pathname === '/stats') {
    const accepted = state.requests.filter((r) => r.status === 200).length;
    return json(res, { requests: state.requests.length, accepted, refused: state.requests.length - accepted, spans: state.spans.length });
  }
  if (req.method === 'POST' && url.pathname === '/reset') {
    reset();
    return json(res, {});
  }
  if (req.method === 'POST' && url.pathname === '/inject') {
    const number = (name, fallback) => (url.searchParams.has(name) ? Number(url.searchParams.get(name)) : fallback);
    injection.status = number('status', injection.status);
    injection.count = number('count', 0);
    injection.retryAfter = url.searchParams.get('retry_after') ?? undefined;
    injection.delayMs = number('delay_ms', injection.delayMs);
    state.failuresLeft = injection.count;
    return json(res, injection);
  }
  return send(res, 404, { 'content-type': 'text/plain' }, Buffer.from('not found\n'));
}

const server = http.createServer((req, res) => {
  const started = process.hrtime.bigint();
  const url = new URL(req.url, 'http://standin');
  const log = (what) => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    process.stderr.write(`jaeger_standin: ${req.method} ${url.pathname} ${what} ${ms.toFixed(1)}ms\n`);
  };
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      log('413 body too large');
      send(res, 413, { 'content-type': 'text/plain', connection: 'close' }, Buffer.from('body too large\n'));
      req.destroy();
    } else {
      chunks.push(chunk);
    }
  });
  req.on('end', () => {
    if (url.pathname !== '/v1/traces') return control(req, res, url);
    if (req.method !== 'POST') return send(res, 405, { allow: 'POST' }, Buffer.alloc(0));
    const body = Buffer.concat(chunks);
    if (injection.delayMs > 0) return setTimeout(() => receive(req, body, res, log), injection.delayMs);
    return receive(req, body, res, log);
  });
});

server.listen(Number(args.port), '127.0.0.1', () => {
  process.stderr.write(`jaeger_standin: listening on 127.0.0.1:${args.port}, protos from ${PROTOS}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
