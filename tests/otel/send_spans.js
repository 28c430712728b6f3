'use strict';
// The app, for OTLP tests: creates spans with the real OpenTelemetry SDK, exports them with
// one of the three OTLP exporters, flushes, shuts down, and prints ONE JSON line on stdout
// describing every span the SDK handed to the exporter (the shape is in canonical.js):
//
//   {"protocol", "endpoint", "gzip", "exports": {"ok", "failed"}, "errors": [...], "spans": [...]}
//
// Exit status 0 only when every export reported success and every span reached the
// exporter; otherwise the reasons go to stderr (and "errors") and the status is 1.
//
//   node send_spans.js --protocol proto|http|grpc [--endpoint URL] [--spans N] [--gzip]
//       [--batch-size B] [--simple] [--service NAME] [--run-id ID] [--resource KEY=VALUE]...
//       [--timeout-ms T]
//
// Without --endpoint the exporter's own default is used (http://localhost:4318/v1/traces,
// http://localhost:4317 for gRPC, or OTEL_EXPORTER_OTLP_* from the environment), as an app
// would. proto sends OTLP/HTTP protobuf, http sends OTLP/HTTP JSON, grpc sends OTLP/gRPC.

const { parseArgs } = require('node:util');
const crypto = require('node:crypto');
// Only the JSON line goes to stdout: anything the SDK would print goes to stderr.
console.log = console.info = console.debug = console.error;

const api = require('@opentelemetry/api');
const { ExportResultCode } = require('@opentelemetry/core');
const { defaultResource, resourceFromAttributes } = require('@opentelemetry/resources');
const { NodeTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-node');
const { fromSdkSpan } = require('./canonical');

const EXPORTERS = {
  proto: '@opentelemetry/exporter-trace-otlp-proto',
  http: '@opentelemetry/exporter-trace-otlp-http',
  grpc: '@opentelemetry/exporter-trace-otlp-grpc',
};

function usage(message) {
  process.stderr.write(`send_spans: ${message}\n`);
  process.exit(2);
}

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        protocol: { type: 'string', default: 'proto' },
        endpoint: { type: 'string' },
        spans: { type: 'string', default: '10' },
        gzip: { type: 'boolean', default: false },
        'batch-size': { type: 'string' },
        simple: { type: 'boolean', default: false },
        service: { type: 'string', default: 'covet-otel-test' },
        'run-id': { type: 'string', default: crypto.randomBytes(4).toString('hex') },
        resource: { type: 'string', multiple: true, default: [] },
        'timeout-ms': { type: 'string' },
      },
    }).values;
  } catch (error) {
    usage(error.message);
  }
  if (!(parsed.protocol in EXPORTERS)) usage(`--protocol must be proto, http or grpc, not ${parsed.protocol}`);
  for (const name of ['spans', 'batch-size', 'timeout-ms']) {
    if (parsed[name] !== undefined && !/^\d+$/.test(parsed[name])) usage(`--${name} must be a number`);
  }
  for (const pair of parsed.resource) if (!pair.includes('=')) usage(`--resource wants KEY=VALUE, not ${pair}`);
  return parsed;
}

// A span exporter that records what it is handed and how each export ended.
function recording(inner, record) {
  return {
    export(spans, done) {
      record.spans.push(...spans.map(fromSdkSpan));
      inner.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) {
          record.ok += 1;
        } else {
          record.failed += 1;
          record.errors.push(`export of ${spans.length} spans failed: ${result.error ? result.error.message || result.error : 'no reason given'}`);
        }
        done(result);
      });
    },
    forceFlush: () => (inner.forceFlush ? inner.forceFlush() : Promise.resolve()),
    shutdown: () => inner.shutdown(),
  };
}

// Groups of ten: a SERVER root, nine children of other kinds, some of them grandchildren
// (positions 3, 6 and 9 are children of the span before them); the last of a group links
// to the previous group's root. Every attribute type, events, errors with a message.
const CHILD_KINDS = [api.SpanKind.INTERNAL, api.SpanKind.CLIENT, api.SpanKind.PRODUCER, api.SpanKind.CONSUMER];

function createSpans(tracer, count, runId) {
  let previousRoot = null;
  for (let first = 0; first < count; first += 10) {
    const group = [];
    for (let i = first; i < Math.min(first + 10, count); i += 1) {
      const position = i - first;
      const parent = position === 0 ? null : position % 3 === 0 ? group[position - 1] : group[0];
      const links = position === 9 && previousRoot ? [{ context: previousRoot.spanContext(), attributes: { 'covet.test.link': 'previous-root' } }] : [];
      const span = tracer.startSpan(
        position === 0 ? `GET /orders/${i}` : `step ${i}`,
        {
          kind: position === 0 ? api.SpanKind.SERVER : CHILD_KINDS[position % CHILD_KINDS.length],
          attributes: {
            'covet.test.index': i,
            'covet.test.run_id': runId,
            'covet.test.ratio': i + 0.25,
            'covet.test.even': i % 2 === 0,
            'covet.test.large': 2 ** 40 + i,
            'covet.test.negative': -i - 1,
            'covet.test.text': `héllo ✓ "quoted" \\ line\nbreak ${i}`,
            'covet.test.tags': ['a', `s${i}`],
            'covet.test.numbers': [i, i + 1],
            'covet.test.doubles': [0.5, i + 0.75],
            'covet.test.flags': [true, i % 3 === 0],
          },
          links,
        },
        parent ? api.trace.setSpan(api.context.active(), parent) : api.context.active(),
      );
      if (position % 2 === 1) {
        span.addEvent('covet.test.event', { 'covet.test.seq': i, 'covet.test.note': 'checkpoint', 'covet.test.ok': true });
      }
      if (i % 7 === 3) {
        span.addEvent('retrying', { 'covet.test.attempt': 2, 'covet.test.delay': 0.125 });
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: `failure ${i}: upstream said no` });
      } else if (position === 0) {
        span.setStatus({ code: api.SpanStatusCode.OK });
      }
      group.push(span);
    }
    for (const span of group.slice().reverse()) span.end();
    previousRoot = group[0];
  }
}

async function main() {
  const args = options();
  const count = Number(args.spans);
  const exporterOptions = { compression: args.gzip ? 'gzip' : 'none' };
  if (args.endpoint) exporterOptions.url = args.endpoint;
  if (args['timeout-ms']) exporterOptions.timeoutMillis = Number(args['timeout-ms']);
  const { OTLPTraceExporter } = require(EXPORTERS[args.protocol]);
  const record = { ok: 0, failed: 0, errors: [], spans: [] };
  const exporter = recording(new OTLPTraceExporter(exporterOptions), record);
  const processor = args.simple
    ? new SimpleSpanProcessor(exporter)
    : new BatchSpanProcessor(exporter, {
        // A queue that holds every span: the processor drops silently past it.
        maxQueueSize: Math.max(2048, count),
        maxExportBatchSize: args['batch-size'] ? Number(args['batch-size']) : 512,
      });
  const resource = { 'service.name': args.service, 'covet.test.run_id': args['run-id'] };
  for (const pair of args.resource) {
    const at = pair.indexOf('=');
    resource[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const provider = new NodeTracerProvider({ resource: defaultResource().merge(resourceFromAttributes(resource)), spanProcessors: [processor] });
  createSpans(provider.getTracer('covet-otel-test', '1.0.0'), count, args['run-id']);
  try {
    await provider.forceFlush();
    await provider.shutdown();
  } catch (error) {
    record.errors.push(`flush or shutdown failed: ${error.message || error}`);
  }
  if (record.spans.length !== count) {
    record.errors.push(`${count} spans created but ${record.spans.length} reached the exporter`);
  }
  const line = JSON.stringify({
    protocol: args.protocol,
    endpoint: args.endpoint || '',
    gzip: args.gzip,
    exports: { ok: record.ok, failed: record.failed },
    errors: record.errors,
    spans: record.spans,
  });
  for (const error of record.errors) process.stderr.write(`send_spans: ${error}\n`);
  const status = record.errors.length === 0 && record.failed === 0 ? 0 : 1;
  process.stdout.write(`${line}\n`, () => process.exit(status));
}

main().catch((error) => {
  process.stderr.write(`send_spans: ${error.stack || error}\n`);
  process.exit(1);
});
