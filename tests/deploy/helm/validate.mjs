#!/usr/bin/env node
// Checks the manifests `helm template` rendered from charts/covet-sidecar, offline.
//
//   node validate.mjs OUT_DIR NAME:MODE:RENDERED.yaml...
//
// For each rendering: every document is validated against the kubernetes-models schema of
// its kind (the prometheus-operator models for ServiceMonitor and PodMonitor) and walked for
// fields those schemas do not know (the models' validate() accepts unknown fields; the
// property lists come from the models' type declarations). Then what the chart promises:
// the sidecar's place (native: initContainers with restartPolicy Always; classic:
// containers), its probes and the app's readinessProbe on the sidecar's port and paths,
// the hardened securityContext on every container, the downward API variables the config
// uses, secrets only as Secret volume sources, the spool on an emptyDir, the memory limit
// against the config's buffers, terminationGracePeriodSeconds against the shutdown
// settings, and selectors that select the pods. Prints one line per check; exits 1 if any
// failed. Writes OUT_DIR/NAME.config.yaml (the sidecar's config from the ConfigMap) and
// OUT_DIR/NAME.env (the sidecar container's environment as a pod would see it, downward
// API values made up) for `covet-sidecar --check-config`.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const HEALTH_PORT = 8099;
const PORT_NAME = 'covet-http';
const SIDECAR = 'covet-sidecar';
const PROBE_PATHS = { startupProbe: '/health/startup', livenessProbe: '/health/live', readinessProbe: '/health/ready' };
const DOWNWARD = { POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace', NODE_NAME: 'spec.nodeName' };
// Made-up downward API values for --check-config: what the kubelet would put there.
const DOWNWARD_VALUES = { 'metadata.name': 'example-7d9f8b6c5-x2x4q', 'metadata.namespace': 'default', 'spec.nodeName': 'node-1' };
// The sidecar's defaults for the buffers its memory limit must hold (README, Traces and
// Configuration), and what the agent itself needs.
const MiB = 1024 * 1024;
const DEFAULTS = { queueBytes: 64 * MiB, receiveBodyBytes: 20 * MiB, scrapeBodyBytes: 64 * MiB };
const AGENT_BYTES = 10 * MiB;
// Request bodies the receivers may hold at a time, for the memory budget; each counts
// twice (as received, and inflated from gzip).
const BODIES_IN_FLIGHT = 2;

const MODELS = {
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Service': 'kubernetes-models/v1/Service',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
  'monitoring.coreos.com/v1/ServiceMonitor': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PodMonitor': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor',
};

let failures = 0;
function check(label, ok, detail = '') {
  if (!ok) failures++;
  console.log(`${ok ? 'ok:  ' : 'FAIL:'} ${label}${!ok && detail ? `: ${detail}` : ''}`);
  return ok;
}

// ---- unknown fields, from the models' type declarations ----------------------------------

// interface file -> { props: Map(name -> type text), extends: [type names], imports }
const declarations = new Map();

function declarationFile(specifier, fromFile) {
  if (specifier.startsWith('.')) return path.resolve(path.dirname(fromFile), specifier).replace(/\.js$/, '.d.ts');
  return fileURLToPath(import.meta.resolve(specifier)).replace(/\.js$/, '.d.ts');
}

// Reads the first `export interface` of a models .d.ts: its properties with their type
// text, what it extends, and its imports (type name -> file). A file without an interface
// is a type alias (Quantity, IntOrString, a string enum): a leaf.
function readDeclaration(file) {
  if (declarations.has(file)) return declarations.get(file);
  const text = fs.readFileSync(file, 'utf8').replace(/\/\*\*[\s\S]*?\*\//g, '');
  const imports = new Map();
  for (const m of text.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g)) {
    for (const name of m[1].split(',').map((s) => s.trim())) imports.set(name, declarationFile(m[2], file));
  }
  const head = text.match(/export interface \w+(?: extends ([^{]+))? \{/);
  let decl = null;
  if (head) {
    const props = new Map();
    let i = head.index + head[0].length;
    let depth = 1;
    let body = '';
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '{') depth++;
      if (text[i] === '}') depth--;
      if (depth > 0) body += text[i];
    }
    // Top-level properties only: split at ";" outside braces and angle brackets.
    let level = 0;
    let current = '';
    for (const ch of body) {
      if (ch === '{' || ch === '<') level++;
      if (ch === '}' || ch === '>') level--;
      if (ch === ';' && level === 0) {
        const m = current.trim().match(/^"([^"]+)"\??:\s*([\s\S]+)$/);
        if (m) props.set(m[1], m[2].trim());
        current = '';
      } else {
        current += ch;
      }
    }
    const bases = (head[1] || '').split(',').map((s) => s.trim()).filter(Boolean);
    decl = { props, bases, imports };
  }
  declarations.set(file, decl);
  return decl;
}

function allProps(file) {
  const decl = readDeclaration(file);
  if (!decl) return null;
  const props = new Map(decl.props);
  for (const base of decl.bases) {
    if (base === 'TypeMeta') {
      props.set('apiVersion', 'string');
      props.set('kind', 'string');
    } else if (decl.imports.has(base)) {
      for (const [k, v] of allProps(decl.imports.get(base))?.props || []) props.set(k, v);
    }
  }
  return { props, imports: decl.imports };
}

// Walks value against the type text typeText (declared in fromFile's imports); pushes the
// path of every key the declarations do not have.
function unknownFields(value, typeText, imports, at, found) {
  if (value === null || typeof value !== 'object') return;
  let m = typeText.match(/^Array<(.+)>$/s);
  if (m && Array.isArray(value)) {
    value.forEach((item, i) => unknownFields(item, m[1].trim(), imports, `${at}[${i}]`, found));
    return;
  }
  m = typeText.match(/^\{\s*\[key: string\]:\s*([\s\S]+?);?\s*\}$/);
  if (m) {
    for (const [k, v] of Object.entries(value)) unknownFields(v, m[1].trim(), imports, `${at}.${k}`, found);
    return;
  }
  if (!imports.has(typeText)) return;  // a primitive, a union, or an inline shape: not walked
  const shape = allProps(imports.get(typeText));
  if (!shape) return;
  for (const [k, v] of Object.entries(value)) {
    if (!shape.props.has(k)) found.push(`${at}.${k}`);
    else unknownFields(v, shape.props.get(k), shape.imports, `${at}.${k}`, found);
  }
}

async function validateDocument(doc, where) {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const module = MODELS[key];
  if (!check(`${where}: ${key} has a known schema`, Boolean(module), 'not one the chart is expected to render')) return;
  const exported = await import(module);
  const Model = exported[doc.kind];
  try {
    new Model(doc).validate();
    check(`${where}: valid ${doc.kind} (kubernetes-models schema)`, true);
  } catch (error) {
    check(`${where}: valid ${doc.kind} (kubernetes-models schema)`, false, String(error.message || error));
  }
  const declFile = fileURLToPath(import.meta.resolve(module)).replace(/\.js$/, '.d.ts');
  const top = allProps(declFile);
  const found = [];
  for (const [k, v] of Object.entries(doc)) {
    if (!top.props.has(k)) found.push(k);
    else unknownFields(v, top.props.get(k), top.imports, k, found);
  }
  check(`${where}: no field unknown to the ${doc.kind} schema`, found.length === 0, found.join(', '));
}

// ---- helpers -------------------------------------------------------------------------------

function parseBytes(text, fallback) {
  if (text === undefined || text === null) return fallback;
  const m = String(text).match(/^(\d+)(B|KiB|MiB|GiB)?$/);
  if (!m) return NaN;
  return Number(m[1]) * { undefined: 1, B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB }[m[2]];
}

function parseQuantity(text) {
  const m = String(text).match(/^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/);
  if (!m) return NaN;
  return Number(m[1]) * { undefined: 1, Ki: 1024, Mi: MiB, Gi: 1024 * MiB, k: 1e3, M: 1e6, G: 1e9 }[m[2]];
}

function parseSeconds(text) {
  let total = 0;
  let rest = String(text);
  const re = /^(\d+)(ms|h|m|s)/;
  if (!rest) return NaN;
  while (rest) {
    const m = rest.match(re);
    if (!m) return NaN;
    total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}

function matches(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => labels[k] === v) && Object.keys(selector || {}).length > 0;
}

// Every string in a value, with its path.
function* strings(value, at = '') {
  if (typeof value === 'string') yield [at, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${at}[${i}]`);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* strings(v, at ? `${at}.${k}` : k);
}

// Every secret-file path the config names (password_file, bearer_token_file,
// basic_auth.password_file, tls key files, header_files values), with its path.
function* secretPaths(value, at = '') {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* secretPaths(v, `${at}[${i}]`);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const here = at ? `${at}.${k}` : k;
      if (k === 'header_files' && v && typeof v === 'object') for (const [h, p] of Object.entries(v)) yield [`${here}.${h}`, p];
      else if (/(password|token|key)_file$/.test(k)) yield [here, v];
      else yield* secretPaths(v, here);
    }
  }
}

function probeTargetsApp(probe, appHostPorts) {
  const target = probe.url || probe.address || '';
  return appHostPorts.some((hp) => target.includes(hp));
}

// ---- the chart's promises -----------------------------------------------------------------

function checkRendering(name, mode, docs, outDir) {
  const of = (kind) => docs.filter((d) => d.kind === kind);
  const where = (what) => `${name}: ${what}`;

  check(where('no Secret is rendered (secrets are existing Secrets, mounted)'), of('Secret').length === 0);
  const configMaps = of('ConfigMap');
  const configMap = configMaps.find((c) => c.data && 'config.yaml' in c.data);
  if (!check(where('a ConfigMap holds config.yaml'), Boolean(configMap))) return;
  let config;
  try {
    config = YAML.parse(configMap.data['config.yaml'], { uniqueKeys: true });
    check(where('config.yaml is YAML with unique keys'), true);
  } catch (error) {
    check(where('config.yaml is YAML with unique keys'), false, error.message);
    return;
  }

  const workloads = of('Deployment');
  if (!check(where('a Deployment carries the sidecar'), workloads.length > 0)) return;
  for (const deployment of workloads) {
    const w = (what) => where(`${deployment.metadata.name}: ${what}`);
    const pod = deployment.spec.template.spec;
    const podLabels = deployment.spec.template.metadata.labels || {};
    const inits = pod.initContainers || [];
    const containers = pod.containers || [];
    const all = [...inits, ...containers];
    const sidecarInit = inits.find((c) => c.name === SIDECAR);
    const sidecarMain = containers.find((c) => c.name === SIDECAR);
    const sidecar = sidecarInit || sidecarMain;

    check(w('the Deployment selects its own pods'), matches(deployment.spec.selector.matchLabels, podLabels));
    if (mode === 'native') {
      check(w('native: the sidecar is in initContainers'), Boolean(sidecarInit) && !sidecarMain);
      check(w('native: the sidecar has restartPolicy Always'), sidecarInit?.restartPolicy === 'Always', `restartPolicy ${sidecarInit?.restartPolicy}`);
      check(w('native: every other init container comes after the sidecar'), inits.findIndex((c) => c.name === SIDECAR) === 0);
    } else {
      check(w('classic: the sidecar is in containers'), Boolean(sidecarMain) && !sidecarInit);
      check(w('classic: the sidecar has no restartPolicy'), sidecarMain?.restartPolicy === undefined);
    }
    if (!sidecar) continue;

    // Probes. The sidecar's use its named port, which must be the listener's port.
    const namedPort = (sidecar.ports || []).find((p) => p.name === PORT_NAME);
    check(w(`the sidecar's port ${PORT_NAME} is ${HEALTH_PORT}`), namedPort?.containerPort === HEALTH_PORT, JSON.stringify(namedPort));
    check(w(`the config listens on 0.0.0.0:${HEALTH_PORT}`), config.listen === `0.0.0.0:${HEALTH_PORT}`, config.listen);
    for (const [probe, wanted] of Object.entries(PROBE_PATHS)) {
      const get = sidecar[probe]?.httpGet;
      const port = get?.port === PORT_NAME ? namedPort?.containerPort : get?.port;
      check(w(`sidecar ${probe} is GET ${wanted} on ${PORT_NAME}`), get?.path === wanted && port === HEALTH_PORT && get?.port === PORT_NAME,
        JSON.stringify(get));
    }
    for (const app of all.filter((c) => c.name !== SIDECAR)) {
      const get = app.readinessProbe?.httpGet;
      // A named port would be looked up in the app's own container, not the sidecar's.
      const port = typeof get?.port === 'string' ? (app.ports || []).find((p) => p.name === get.port)?.containerPort : get?.port;
      check(w(`app container ${app.name}: readinessProbe is GET /health/ready on ${HEALTH_PORT}`), get?.path === '/health/ready' && port === HEALTH_PORT,
        JSON.stringify(get));
    }

    // Hardening, on every container and init container.
    for (const c of all) {
      const s = c.securityContext || {};
      const problems = [];
      if (s.runAsNonRoot !== true) problems.push('runAsNonRoot');
      if (s.readOnlyRootFilesystem !== true) problems.push('readOnlyRootFilesystem');
      if (s.allowPrivilegeEscalation !== false) problems.push('allowPrivilegeEscalation');
      if (!(s.capabilities?.drop || []).includes('ALL')) problems.push('capabilities.drop ALL');
      if (s.capabilities?.add?.length) problems.push('capabilities.add');
      if (s.privileged === true) problems.push('privileged');
      if (s.seccompProfile?.type !== 'RuntimeDefault') problems.push('seccompProfile RuntimeDefault');
      check(w(`container ${c.name}: hardened securityContext`), problems.length === 0, `missing ${problems.join(', ')}`);
    }

    // Resources, and the memory limit against the buffers the config allows (an exporter's
    // queue counts its batches in flight).
    const res = sidecar.resources || {};
    check(w('sidecar has cpu and memory requests and a memory limit'),
      Boolean(res.requests?.cpu && res.requests?.memory && res.limits?.memory), JSON.stringify(res));
    const limit = parseQuantity(res.limits?.memory);
    const exporters = config.otlp?.exporters || [];
    const queues = exporters.reduce((sum, e) => sum + parseBytes(e.queue?.max_bytes, DEFAULTS.queueBytes), 0);
    const bodies = config.otlp
      ? 2 * BODIES_IN_FLIGHT * Math.max(parseBytes(config.otlp.http?.max_body_bytes, DEFAULTS.receiveBodyBytes),
        parseBytes(config.otlp.grpc?.max_body_bytes, DEFAULTS.receiveBodyBytes))
      : 0;
    const pages = Math.max(0, ...(config.scrape || []).map((s) => parseBytes(s.max_body_bytes, DEFAULTS.scrapeBodyBytes)));
    const budget = AGENT_BYTES + queues + bodies + pages;
    check(w(`memory limit ${res.limits?.memory} holds agent + queues + ${BODIES_IN_FLIGHT} OTLP bodies (and their inflated copies) + a scraped page (${Math.ceil(budget / MiB)}MiB)`),
      limit >= budget, `limit ${limit} < ${budget}`);

    // Downward API, and the config's use of it.
    const env = Object.fromEntries((sidecar.env || []).map((e) => [e.name, e]));
    for (const [variable, field] of Object.entries(DOWNWARD)) {
      check(w(`sidecar env ${variable} from ${field}`), env[variable]?.valueFrom?.fieldRef?.fieldPath === field);
    }
    const podVars = [...strings(config.scrape || [])].filter(([, v]) => v.includes('${POD_NAME'));
    check(w('scrape labels use ${POD_NAME}'), (config.scrape || []).length === 0 || podVars.length > 0);
    if (config.otlp) {
      const resource = config.otlp.resource || {};
      check(w('otlp resource k8s.pod.name, k8s.namespace.name, k8s.node.name from the downward API'),
        /\$\{POD_NAME/.test(resource['k8s.pod.name']) && /\$\{POD_NAMESPACE/.test(resource['k8s.namespace.name']) &&
        /\$\{NODE_NAME/.test(resource['k8s.node.name']), JSON.stringify(resource));
    }

    // Volumes: every mount has a volume; the config comes from the rendered ConfigMap.
    const volumes = Object.fromEntries((pod.volumes || []).map((v) => [v.name, v]));
    const mounts = sidecar.volumeMounts || [];
    check(w('every sidecar volumeMount has a volume'), mounts.every((m) => volumes[m.name]), mounts.map((m) => m.name).join(', '));
    const configMount = mounts.find((m) => m.mountPath === '/etc/covet-sidecar');
    check(w('the config volume is the rendered ConfigMap, read-only'),
      configMount?.readOnly === true && volumes[configMount.name]?.configMap?.name === configMap.metadata.name);
    check(w('the sidecar runs covet-sidecar --config /etc/covet-sidecar/config.yaml'),
      JSON.stringify([...(sidecar.command || []), ...(sidecar.args || [])]) ===
        JSON.stringify(['covet-sidecar', '--config', '/etc/covet-sidecar/config.yaml']));
    check(w('the pod is annotated with the config checksum'),
      /^[0-9a-f]{64}$/.test(deployment.spec.template.metadata.annotations?.['checksum/covet-sidecar-config'] || ''));

    // Secrets: each path the config names is a file of a Secret mounted read-only; the
    // Secret names appear only as volume sources.
    const secretFiles = new Map();  // absolute path -> {secret, key}
    for (const m of mounts) {
      const v = volumes[m.name];
      const sources = v?.projected?.sources?.filter((s) => s.secret) || (v?.secret ? [{ secret: { name: v.secret.secretName, items: v.secret.items } }] : []);
      for (const s of sources) {
        for (const item of s.secret.items || []) secretFiles.set(path.posix.join(m.mountPath, item.path), { secret: s.secret.name, key: item.key, readOnly: m.readOnly });
      }
    }
    for (const [at, file] of secretPaths(config)) {
      const mounted = secretFiles.get(file);
      check(w(`config ${at} is a file of a Secret mounted read-only`), Boolean(mounted?.readOnly), `${file} is not a mounted Secret key`);
    }
    const secretNames = [...new Set([...secretFiles.values()].map((s) => s.secret))];
    for (const secretName of secretNames) {
      const inConfigMaps = configMaps.some((c) => JSON.stringify(c).includes(secretName));
      const inEnv = JSON.stringify(all.map((c) => c.env || [])).includes(secretName);
      check(w(`Secret ${secretName} appears only as a volume source`), !inConfigMaps && !inEnv);
    }
    for (const c of configMaps) {
      const leaks = [...strings(c.data || {})].flatMap(([at, text]) => {
        const found = [];
        if (/[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@?#\s]*:[^/@?#\s]*@/.test(text)) found.push(`${at}: a URL with a password`);
        if (/(^|[\s?&])password\s*=/i.test(text)) found.push(`${at}: password=`);
        if (/^\s*(password|token|secret|api_?key)\s*:/im.test(text)) found.push(`${at}: a credential key`);
        if (/^\s*(authorization|cookie)\s*:/im.test(text) && !/header_files:/.test(text)) found.push(`${at}: a credential header`);
        return found;
      });
      check(where(`ConfigMap ${c.metadata.name} holds no secret value`), leaks.length === 0, leaks.join('; '));
    }

    // The spool: on an emptyDir the sidecar mounts, big enough for every spool.
    for (const [i, e] of exporters.entries()) {
      if (!e.spool) continue;
      const m = mounts.find((mount) => e.spool.dir.startsWith(`${mount.mountPath.replace(/\/$/, '')}/`));
      const v = m && volumes[m.name];
      check(w(`otlp exporter ${i} spool ${e.spool.dir} is on a writable emptyDir`), Boolean(v?.emptyDir) && !m.readOnly);
      const size = parseQuantity(v?.emptyDir?.sizeLimit);
      check(w(`emptyDir sizeLimit ${v?.emptyDir?.sizeLimit} exceeds spool.max_bytes ${e.spool.max_bytes ?? '1GiB'}`),
        size > parseBytes(e.spool.max_bytes, 1024 * MiB));
    }

    // Shutdown: the kubelet waits long enough for the sidecar's grace period (and, native,
    // for the app first: a native sidecar is signalled once the app containers have exited).
    const grace = parseSeconds(config.shutdown?.grace_period ?? '25s');
    const drain = parseSeconds(config.shutdown?.drain_delay ?? '5s');
    const tgps = pod.terminationGracePeriodSeconds ?? 30;
    check(w(`drain_delay ${drain}s < grace_period ${grace}s`), drain < grace);
    if (mode === 'native') {
      check(w(`native: terminationGracePeriodSeconds ${tgps} > drain_delay ${drain}s + grace_period ${grace}s (the app stops first, then the sidecar)`),
        tgps > grace + drain);
    } else {
      check(w(`classic: terminationGracePeriodSeconds ${tgps} > grace_period ${grace}s (drain included; all stop together)`), tgps > grace);
    }

    // Native: the app starts only after the sidecar's startup probe passes, so no startup
    // check may wait for the app (it would never start).
    if (mode === 'native') {
      const appHostPorts = all.filter((c) => c.name !== SIDECAR).flatMap((c) => {
        const port = (c.env || []).find((e) => e.name === 'APP_PORT')?.value || (c.ports || [])[0]?.containerPort || 8000;
        return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
      });
      const blocking = (config.probes || []).filter((p) => (p.roles ?? ['readiness', 'startup']).includes('startup') && probeTargetsApp(p, appHostPorts));
      check(w('native: no startup check waits for the app'), blocking.length === 0, blocking.map((p) => p.name).join(', '));
    }

    // Selectors of the optional resources select these pods.
    for (const s of of('Service')) {
      check(where(`Service ${s.metadata.name} selects the pods`), matches(s.spec.selector, podLabels));
      const metrics = s.spec.ports.find((p) => p.name === 'metrics');
      check(where(`Service ${s.metadata.name} port metrics targets ${HEALTH_PORT}`), metrics?.targetPort === HEALTH_PORT);
    }
    for (const p of of('PodDisruptionBudget')) check(where(`PodDisruptionBudget ${p.metadata.name} selects the pods`), matches(p.spec.selector.matchLabels, podLabels));
    for (const p of of('NetworkPolicy')) {
      check(where(`NetworkPolicy ${p.metadata.name} selects the pods`), matches(p.spec.podSelector.matchLabels, podLabels));
      check(where(`NetworkPolicy ${p.metadata.name} admits port ${HEALTH_PORT}`),
        (p.spec.ingress || []).some((r) => (r.ports || []).some((port) => port.port === HEALTH_PORT || port.port === PORT_NAME)));
    }
    for (const p of of('PodMonitor')) {
      check(where(`PodMonitor ${p.metadata.name} selects the pods`), matches(p.spec.selector.matchLabels, podLabels));
      const endpoints = p.spec.podMetricsEndpoints || [];
      check(where(`PodMonitor ${p.metadata.name} scrapes /metrics on ${PORT_NAME}`),
        endpoints.length > 0 && endpoints.every((e) => e.port === PORT_NAME && e.path === '/metrics'));
      checkScrapeTimeouts(where(`PodMonitor ${p.metadata.name}`), endpoints, config);
    }

    // The sidecar's environment as the kubelet would set it, for --check-config.
    const lines = (sidecar.env || []).map((e) => {
      const value = e.valueFrom?.fieldRef ? DOWNWARD_VALUES[e.valueFrom.fieldRef.fieldPath] ?? 'x' : e.value ?? '';
      return `${e.name}=${value}`;
    });
    fs.writeFileSync(path.join(outDir, `${name}.env`), `${lines.join('\n')}\n`);
  }

  for (const s of of('ServiceMonitor')) {
    const services = of('Service').filter((svc) => matches(s.spec.selector.matchLabels, svc.metadata.labels || {}));
    check(where(`ServiceMonitor ${s.metadata.name} selects the metrics Service`), services.length === 1);
    const ports = new Set(services.flatMap((svc) => svc.spec.ports.map((p) => p.name)));
    const endpoints = s.spec.endpoints || [];
    check(where(`ServiceMonitor ${s.metadata.name} scrapes /metrics on a port of the Service`),
      endpoints.length > 0 && endpoints.every((e) => ports.has(e.port) && e.path === '/metrics'));
    checkScrapeTimeouts(where(`ServiceMonitor ${s.metadata.name}`), endpoints, config);
  }

  fs.writeFileSync(path.join(outDir, `${name}.config.yaml`), configMap.data['config.yaml']);
}

// Prometheus must wait longer than the sidecar's slowest fetch of the app's page, and
// scrape no faster than its timeout.
function checkScrapeTimeouts(label, endpoints, config) {
  const slowest = Math.max(0, ...(config.scrape || []).map((s) => parseSeconds(s.timeout ?? '5s')));
  for (const e of endpoints) {
    const timeout = parseSeconds(e.scrapeTimeout ?? '10s');
    const interval = parseSeconds(e.interval ?? '30s');
    check(`${label}: scrapeTimeout ${e.scrapeTimeout} > the slowest scrape timeout ${slowest}s, <= interval ${e.interval}`,
      timeout > slowest && timeout <= interval);
  }
}

async function main() {
  const [outDir, ...renderings] = process.argv.slice(2);
  if (!outDir || renderings.length === 0) {
    console.error('usage: validate.mjs OUT_DIR NAME:MODE:RENDERED.yaml...');
    process.exit(2);
  }
  for (const spec of renderings) {
    const [name, mode, file] = spec.split(':');
    const documents = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'), { uniqueKeys: true });
    const errors = documents.flatMap((d) => d.errors.map((e) => e.message));
    if (!check(`${name}: rendered YAML parses, no duplicate keys`, errors.length === 0, errors.join('; '))) continue;
    const docs = documents.map((d) => d.toJS()).filter((d) => d !== null);
    for (const doc of docs) await validateDocument(doc, `${name}: ${doc.kind} ${doc.metadata?.name}`);
    checkRendering(name, mode, docs, outDir);
  }
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(`validate.mjs: ${error.stack || error}`);
  process.exit(2);
});
