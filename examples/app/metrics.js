'use strict';
// The example app's metrics: one prom-client registry with the families a typical web
// framework exposes, rendered as Prometheus text 0.0.4 or OpenMetrics 1.0 per request.
//
//   const metrics = await createMetrics({ frozen, series });
//   metrics.requestStarted(); metrics.requestFinished({ method, route, code, seconds, traceId });
//   const { contentType, body } = await metrics.render({ openMetrics });
//   metrics.stop();
//
// Live mode: prom-client's default metrics (process_*, nodejs_*), http_* from the requests
// the server handles, db_* / cache_* / app_jobs_* simulated on a one-second timer.
// Frozen mode: every value is fixed at start and nothing changes it afterwards (no default
// metrics, no timer, requests are not counted), so the page is byte-identical between
// fetches; it also carries the awkward cases: label values with a quote, a backslash and a
// newline, NaN and +Inf gauge values, exemplars.

const crypto = require('node:crypto');
const client = require('prom-client');

const { Registry } = client;
const VERSION = require('./package.json').version;

// Request durations range from under a millisecond to the 10 s /work limit.
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DB_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const DB_POOL_SIZE = 20;
const DB_OPERATIONS = ['select', 'insert', 'update', 'delete'];
const CACHES = ['sessions', 'users', 'catalog'];
const JOBS = ['send_email', 'resize_image', 'nightly_report'];
const SYNTHETIC_METHODS = ['GET', 'POST', 'PUT', 'DELETE'];

function randomTraceId() {
  return crypto.randomBytes(16).toString('hex');
}

function between(low, high) {
  return low + Math.random() * (high - low);
}

// Every family, declared together. The registry is created as OpenMetrics because
// prom-client only accepts exemplar-enabled metrics on an OpenMetrics registry; render()
// switches its content type per request.
function declare(registry) {
  const registers = [registry];
  return {
    httpRequests: new client.Counter({
      name: 'http_requests_total',
      help: 'HTTP requests served, by method, route and status code.',
      labelNames: ['method', 'route', 'code'],
      enableExemplars: true,
      registers,
    }),
    httpDuration: new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request received to response finished.',
      labelNames: ['method', 'route'],
      buckets: HTTP_BUCKETS,
      enableExemplars: true,
      registers,
    }),
    httpInFlight: new client.Gauge({
      name: 'http_requests_in_flight',
      help: 'Requests being served right now.',
      registers,
    }),
    dbActive: new client.Gauge({
      name: 'db_connections_active',
      help: 'Database pool connections checked out by a request.',
      registers,
    }),
    dbIdle: new client.Gauge({
      name: 'db_connections_idle',
      help: 'Database pool connections open and waiting.',
      registers,
    }),
    dbQueryDuration: new client.Histogram({
      name: 'db_query_duration_seconds',
      help: 'Database query duration, by operation.',
      labelNames: ['operation'],
      buckets: DB_BUCKETS,
      registers,
    }),
    cacheHits: new client.Counter({
      name: 'cache_hits_total',
      help: 'Cache lookups that found the key.',
      labelNames: ['cache'],
      registers,
    }),
    cacheMisses: new client.Counter({
      name: 'cache_misses_total',
      help: 'Cache lookups that did not find the key.',
      labelNames: ['cache'],
      registers,
    }),
    jobs: new client.Counter({
      name: 'app_jobs_processed_total',
      help: 'Background jobs finished, by job and outcome.',
      labelNames: ['job', 'status'],
      registers,
    }),
    rateLimit: new client.Gauge({
      name: 'app_rate_limit_requests_per_second',
      help: 'Configured request rate limit per route: +Inf when unlimited, NaN when not loaded yet.',
      labelNames: ['route'],
      registers,
    }),
    info: new client.Gauge({
      name: 'app_info',
      help: 'The app version, always 1.',
      labelNames: ['version'],
      registers,
    }),
  };
}

// Fixed values for frozen mode, one or more series per family, exemplars with fixed trace
// ids. Exemplar timestamps are prom-client's (the time of this call), fixed from then on.
function setFrozenValues(m) {
  const requests = [
    ['GET', '/', '200', 1027],
    ['GET', '/work', '200', 512],
    ['GET', '/work', '400', 3],
    ['GET', '/health/live', '200', 8640],
    ['GET', '/metrics', '200', 2880],
    ['POST', 'other', '404', 17],
  ];
  requests.forEach(([method, route, code, count], i) => {
    const labels = { method, route, code };
    m.httpRequests.inc({ labels, value: count - 1 });
    m.httpRequests.inc({
      labels,
      value: 1,
      exemplarLabels: { trace_id: `4bf92f3577b34da6a3ce929d0e0e47${String(i).padStart(2, '0')}` },
    });
  });
  const durations = [0.0004, 0.0009, 0.003, 0.012, 0.04, 0.2, 0.3, 0.75, 1.5, 4, 12];
  durations.forEach((seconds, i) => {
    m.httpDuration.observe({
      labels: { method: 'GET', route: '/work' },
      value: seconds,
      exemplarLabels: { trace_id: `0af7651916cd43dd8448eb211c8031${String(i).padStart(2, '0')}` },
    });
    m.httpDuration.observe({ labels: { method: 'GET', route: '/health/live' }, value: seconds / 100 });
  });
  m.httpInFlight.set(2);
  m.dbActive.set(3);
  m.dbIdle.set(DB_POOL_SIZE - 3);
  DB_OPERATIONS.forEach((operation, i) => {
    for (const seconds of [0.0007, 0.002, 0.004, 0.03, 0.2]) {
      m.dbQueryDuration.observe({ operation }, seconds * (i + 1));
    }
  });
  CACHES.forEach((cache, i) => {
    m.cacheHits.inc({ cache }, 1000 * (i + 1));
    m.cacheMisses.inc({ cache }, 37 * (i + 1));
  });
  // A label value with a quote, a backslash and a newline: escaped on the page.
  m.cacheHits.inc({ cache: 'tenant "eu"\\west\nsecondary' }, 5);
  JOBS.forEach((job, i) => {
    m.jobs.inc({ job, status: 'success' }, 400 + i);
    m.jobs.inc({ job, status: 'failure' }, i);
  });
  m.jobs.inc({ job: 'import "legacy" C:\\data\nbatch', status: 'retry' }, 2);
  m.rateLimit.set({ route: '/work' }, 50);
  m.rateLimit.set({ route: '/' }, Infinity);
  m.rateLimit.set({ route: '/metrics' }, NaN);
}

// Live mode: a plausible app in motion, updated every second.
function simulateTick(m) {
  const active = Math.round(between(1, 12));
  m.dbActive.set(active);
  m.dbIdle.set(DB_POOL_SIZE - active - Math.round(between(0, 3)));
  for (const operation of DB_OPERATIONS) {
    const queries = Math.round(between(0, operation === 'select' ? 40 : 8));
    for (let i = 0; i < queries; i++) {
      // Mostly a few milliseconds, sometimes a slow one.
      const seconds = Math.random() < 0.05 ? between(0.05, 0.8) : between(0.0003, 0.01);
      m.dbQueryDuration.observe({ operation }, seconds);
    }
  }
  for (const cache of CACHES) {
    m.cacheHits.inc({ cache }, Math.round(between(20, 200)));
    m.cacheMisses.inc({ cache }, Math.round(between(0, 15)));
  }
  for (const job of JOBS) {
    m.jobs.inc({ job, status: 'success' }, Math.round(between(0, 5)));
    if (Math.random() < 0.1) m.jobs.inc({ job, status: 'failure' });
  }
}

function seedLive(m) {
  for (const cache of CACHES) {
    m.cacheHits.inc({ cache }, 0);
    m.cacheMisses.inc({ cache }, 0);
  }
  for (const job of JOBS) {
    for (const status of ['success', 'failure']) m.jobs.inc({ job, status }, 0);
  }
  m.rateLimit.set({ route: '/work' }, 50);
  m.rateLimit.set({ route: '/' }, Infinity);
  m.rateLimit.set({ route: '/metrics' }, NaN);
  simulateTick(m);
}

function countSeries(page) {
  let count = 0;
  for (const line of page.split('\n')) {
    if (line !== '' && line[0] !== '#') count += 1;
  }
  return count;
}

// The synthetic high-cardinality family: `count` series, values fixed by their index.
function addSyntheticFamily(registry, count) {
  const endpoints = new client.Counter({
    name: 'app_endpoint_requests_total',
    help: 'Requests per API endpoint and method (synthetic, sized by --series for load tests).',
    labelNames: ['endpoint', 'method'],
    registers: [registry],
  });
  const labelsOf = (i) => ({
    endpoint: `/api/v1/items/${Math.floor(i / SYNTHETIC_METHODS.length)}`,
    method: SYNTHETIC_METHODS[i % SYNTHETIC_METHODS.length],
  });
  for (let i = 0; i < count; i++) endpoints.inc(labelsOf(i), 1 + ((i * 7919) % 5000));
  // Live mode moves about 1% of them a second.
  return () => {
    const moves = Math.max(1, Math.floor(count / 100));
    for (let n = 0; n < moves; n++) endpoints.inc(labelsOf(Math.floor(Math.random() * count)));
  };
}

async function createMetrics({ frozen = false, series = 0 } = {}) {
  const registry = new Registry(Registry.OPENMETRICS_CONTENT_TYPE);
  if (!frozen) client.collectDefaultMetrics({ register: registry });
  const m = declare(registry);
  m.info.set({ version: VERSION }, 1);
  if (frozen) setFrozenValues(m);
  else seedLive(m);

  // prom-client renames counters in place when it renders OpenMetrics (metric.name loses
  // its _total, and a later Prometheus render would then print `http_requests` alone). So
  // every render first restores the names, and renders run one at a time.
  let names = new Map();
  const rememberNames = () => {
    names = new Map(registry.getMetricsAsArray().map((metric) => [metric, metric.name]));
  };
  let previous = Promise.resolve();
  const render = ({ openMetrics = false } = {}) => {
    const run = async () => {
      for (const [metric, name] of names) metric.name = name;
      registry.setContentType(
        openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE,
      );
      return { contentType: registry.contentType, body: await registry.metrics() };
    };
    const result = previous.then(run, run);
    previous = result.catch(() => {});
    return result;
  };

  // --series N: the whole page has about N series, the synthetic family makes up the rest.
  let moveSynthetic = null;
  rememberNames();
  if (series > 0) {
    const base = countSeries((await render()).body);
    if (series > base) {
      moveSynthetic = addSyntheticFamily(registry, series - base);
      rememberNames();
    }
  }

  let timer = null;
  if (!frozen) {
    timer = setInterval(() => {
      simulateTick(m);
      if (moveSynthetic) moveSynthetic();
    }, 1000);
    timer.unref();
  }

  return {
    render,
    requestStarted() {
      if (!frozen) m.httpInFlight.inc();
    },
    // traceId: the request's trace, attached as the exemplar of its counter and bucket.
    requestFinished({ method, route, code, seconds, traceId = randomTraceId() }) {
      if (frozen) return;
      m.httpInFlight.dec();
      const exemplarLabels = { trace_id: traceId };
      m.httpRequests.inc({ labels: { method, route, code: String(code) }, value: 1, exemplarLabels });
      m.httpDuration.observe({ labels: { method, route }, value: seconds, exemplarLabels });
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}

module.exports = { createMetrics, countSeries };
