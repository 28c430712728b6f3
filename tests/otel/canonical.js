'use strict';
// One shape for a span, shared by what send_spans.js says it sent and what
// jaeger_standin.js says it received, so a test can compare the two as JSON:
//
//   { traceId, spanId, parentSpanId,          lower-case hex; "" for a root's parent
//     name, kind,                             kind as OTLP's enum: 1 internal .. 5 consumer
//     startTimeUnixNano, endTimeUnixNano,     decimal strings (they are 64-bit)
//     attributes: { key: VALUE },             keys sorted
//     events: [{ name, timeUnixNano, attributes }],
//     links: [{ traceId, spanId, attributes }],
//     status: { code, message },              code as OTLP's enum: 0 unset, 1 ok, 2 error
//     resource: { key: VALUE }, scope: { name, version } }
//
// VALUE is OTLP/JSON's AnyValue with one member: {"stringValue": "x"}, {"intValue": "42"}
// (a string: int64), {"doubleValue": 2.5}, {"boolValue": true}, {"bytesValue": "hex"},
// {"arrayValue": [VALUE, ...]}, {"kvlistValue": {key: VALUE}}; {} for an empty AnyValue.

// A JS attribute value as the SDK's OTLP transformer encodes it: integral numbers become
// intValue, other numbers doubleValue.
function fromJs(value) {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  }
  if (value instanceof Uint8Array) return { bytesValue: Buffer.from(value).toString('hex') };
  if (Array.isArray(value)) return { arrayValue: value.map(fromJs) };
  return {};
}

function jsAttributes(attributes) {
  const out = {};
  for (const key of Object.keys(attributes || {}).sort()) out[key] = fromJs(attributes[key]);
  return out;
}

function hrTimeToNanos(time) {
  return String(BigInt(time[0]) * 1000000000n + BigInt(time[1]));
}

// A ReadableSpan of the SDK, as it is handed to the exporter.
function fromSdkSpan(span) {
  const context = span.spanContext();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext ? span.parentSpanContext.spanId : '',
    name: span.name,
    kind: span.kind + 1,
    startTimeUnixNano: hrTimeToNanos(span.startTime),
    endTimeUnixNano: hrTimeToNanos(span.endTime),
    attributes: jsAttributes(span.attributes),
    events: span.events.map((event) => ({
      name: event.name,
      timeUnixNano: hrTimeToNanos(event.time),
      attributes: jsAttributes(event.attributes),
    })),
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      attributes: jsAttributes(link.attributes),
    })),
    status: { code: span.status.code, message: span.status.message || '' },
    resource: jsAttributes(span.resource.attributes),
    scope: { name: span.instrumentationScope.name, version: span.instrumentationScope.version || '' },
  };
}

// --- What arrived over OTLP: protobufjs's toObject() output (ids as Buffers, 64-bit
// numbers as strings) and OTLP/JSON (ids as hex strings, 64-bit numbers as strings or
// numbers) have the same lowerCamelCase shape, so one reader serves both.

function hexId(value, bytes, what) {
  if (value === undefined || value === null || value === '') return '';
  const hex = typeof value === 'string' ? value : Buffer.from(value).toString('hex');
  if (!new RegExp(`^[0-9a-f]{${2 * bytes}}$`).test(hex)) throw new Error(`${what}: not ${bytes} bytes of hex: ${hex}`);
  return hex;
}

function int64(value) {
  if (value === undefined || value === null) return '0';
  return BigInt(value).toString();  // throws on a non-integer
}

function fromOtlpValue(value) {
  if (!value) return {};
  if ('stringValue' in value) return { stringValue: value.stringValue };
  if ('boolValue' in value) return { boolValue: value.boolValue };
  if ('intValue' in value) return { intValue: int64(value.intValue) };
  if ('doubleValue' in value) return { doubleValue: Number(value.doubleValue) };
  if ('bytesValue' in value) return { bytesValue: Buffer.from(value.bytesValue, typeof value.bytesValue === 'string' ? 'base64' : undefined).toString('hex') };
  if ('arrayValue' in value) return { arrayValue: ((value.arrayValue || {}).values || []).map(fromOtlpValue) };
  if ('kvlistValue' in value) return { kvlistValue: fromOtlpAttributes((value.kvlistValue || {}).values) };
  return {};
}

// A repeated key is kept visible as "!duplicate:KEY" so a comparison notices it.
function fromOtlpAttributes(list) {
  const out = {};
  for (const { key, value } of list || []) {
    const name = key in out ? `!duplicate:${key}` : key;
    out[name] = fromOtlpValue(value);
  }
  return Object.fromEntries(Object.keys(out).sort().map((key) => [key, out[key]]));
}

function fromOtlpSpan(span, resource, scope) {
  return {
    traceId: hexId(span.traceId, 16, 'traceId'),
    spanId: hexId(span.spanId, 8, 'spanId'),
    parentSpanId: hexId(span.parentSpanId, 8, 'parentSpanId'),
    name: span.name || '',
    kind: span.kind || 0,
    startTimeUnixNano: int64(span.startTimeUnixNano),
    endTimeUnixNano: int64(span.endTimeUnixNano),
    attributes: fromOtlpAttributes(span.attributes),
    events: (span.events || []).map((event) => ({
      name: event.name || '',
      timeUnixNano: int64(event.timeUnixNano),
      attributes: fromOtlpAttributes(event.attributes),
    })),
    links: (span.links || []).map((link) => ({
      traceId: hexId(link.traceId, 16, 'link traceId'),
      spanId: hexId(link.spanId, 8, 'link spanId'),
      attributes: fromOtlpAttributes(link.attributes),
    })),
    status: { code: (span.status || {}).code || 0, message: (span.status || {}).message || '' },
    resource: fromOtlpAttributes((resource || {}).attributes),
    scope: { name: (scope || {}).name || '', version: (scope || {}).version || '' },
  };
}

// Every span of an ExportTraceServiceRequest (as an object), in order.
function fromOtlpRequest(request) {
  const spans = [];
  for (const resourceSpans of request.resourceSpans || []) {
    for (const scopeSpans of resourceSpans.scopeSpans || []) {
      for (const span of scopeSpans.spans || []) {
        spans.push(fromOtlpSpan(span, resourceSpans.resource, scopeSpans.scope));
      }
    }
  }
  return spans;
}

module.exports = { fromSdkSpan, fromOtlpRequest };
