'use strict';
// Checks the dashboards and alerting rules against a running sidecar and the Prometheus
// scraping it (tests/deploy/live_monitoring_test.sh starts both):
//
//   node check.js --prometheus URL --sidecar URL --dashboards DIR --rules N [--deadline-s S]
//
//   dashboards  every file parses, has a uid, a "covet-sidecar / " title, a `datasource`
//               variable of type prometheus, and every panel and variable uses it
//   rules       Prometheus loaded groups from all N rule files (N: the files the test
//               found, possibly 0), and every rule evaluates without error
//   variables   every label_values() variable yields at least one value
//   names       every metric name in a rule or dashboard expression exists: on the
//               sidecar's /metrics, in Prometheus, or as a recording rule's output
//   queries     every dashboard query, variables substituted, evaluates without error
//               and returns at least one series
//
// Rules come from Prometheus' /api/v1/rules rather than from the YAML files, so no YAML
// parser is needed and what is checked is exactly what Prometheus loaded. Queries that
// need more samples (rate over a window) are retried until --deadline-s has passed.
// One line per check on stdout ("ok ..." or "FAIL ..." with every offending item below
// it); exit status 0 when all passed, else 1.

const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');

const { values: args } = parseArgs({
  options: {
    prometheus: { type: 'string' },
    sidecar: { type: 'string' },
    dashboards: { type: 'string' },
    rules: { type: 'string', default: '0' },
    'deadline-s': { type: 'string', default: '60' },
  },
});
for (const required of ['prometheus', 'sidecar', 'dashboards']) {
  if (!args[required]) {
    console.error(`usage: check.js --prometheus URL --sidecar URL --dashboards DIR --rules N [--deadline-s S]`);
    process.exit(2);
  }
}
const deadline = Date.now() + Number(args['deadline-s']) * 1000;

// ------------------------------------------------------------------------------ PromQL
// Not a parser: a tokenizer that finds the metric names in an expression. Strings, label
// matchers ({...}), ranges ([...]) and the label lists of by/without/on/ignoring/
// group_left/group_right are skipped; an identifier followed by "(" is a function; what
// remains, minus keywords and aggregation operators (which may be followed by "by"), is a
// metric name. A {__name__="x"} matcher names x.

const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count',
  'count_values', 'bottomk', 'topk', 'quantile']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'atan2']);
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

function skipQuoted(expr, i) {
  const quote = expr[i];
  for (i += 1; i < expr.length; i += 1) {
    if (expr[i] === '\\' && quote !== '`') i += 1;
    else if (expr[i] === quote) return i + 1;
  }
  throw new Error(`unterminated string in: ${expr}`);
}

// i at an opening bracket; returns the index after its match, strings skipped.
function skipBalanced(expr, i, open, close, onText) {
  const start = i;
  let depth = 0;
  for (; i < expr.length; i += 1) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === '`') {
      i = skipQuoted(expr, i) - 1;
    } else if (c === open) {
      depth += 1;
    } else if (c === close) {
      depth -= 1;
      if (depth === 0) {
        if (onText) onText(expr.slice(start + 1, i));
        return i + 1;
      }
    }
  }
  throw new Error(`unbalanced ${open}${close} in: ${expr}`);
}

function nextNonSpace(expr, i) {
  while (i < expr.length && /\s/.test(expr[i])) i += 1;
  return i;
}

function metricNames(expr) {
  const names = new Set();
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (/\s/.test(c)) { i += 1; continue; }
    if (c === '#') { while (i < expr.length && expr[i] !== '\n') i += 1; continue; }
    if (c === '"' || c === "'" || c === '`') { i = skipQuoted(expr, i); continue; }
    if (c === '{') {
      i = skipBalanced(expr, i, '{', '}', (text) => {
        const m = /__name__\s*=\s*"([^"]+)"/.exec(text);
        if (m && !/__name__\s*=~/.test(text)) names.add(m[1]);
      });
      continue;
    }
    if (c === '[') { i = skipBalanced(expr, i, '[', ']'); continue; }
    if (c === '$') { // a template variable left in place: not a name
      i += 1;
      if (expr[i] === '{') i = skipBalanced(expr, i, '{', '}');
      else while (i < expr.length && /\w/.test(expr[i])) i += 1;
      continue;
    }
    const number = /^(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)/.exec(expr.slice(i));
    if (number && /[\d.]/.test(c)) {
      i += number[0].length;
      // The units of a duration ("offset 5m"), not a name.
      while (i < expr.length && /[a-zA-Z0-9]/.test(expr[i])) i += 1;
      continue;
    }
    const ident = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i));
    if (!ident) { i += 1; continue; }
    const word = ident[0];
    i += word.length;
    const lower = word.toLowerCase();
    if (LABEL_LISTS.has(lower)) {
      const j = nextNonSpace(expr, i);
      if (expr[j] === '(') i = skipBalanced(expr, j, '(', ')');
      continue;
    }
    if (KEYWORDS.has(lower) || AGGREGATIONS.has(word)) continue;
    if (expr[nextNonSpace(expr, i)] === '(') continue; // a function call
    names.add(word);
  }
  return names;
}

// ------------------------------------------------------------------------------ HTTP
async function getJson(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(10000) });
  const body = await response.text();
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`${url}: HTTP ${response.status}: ${body.slice(0, 200)}`);
  }
}

async function promQuery(expr) {
  const body = await getJson(`${args.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
  if (body.status !== 'success') return { error: `${body.errorType}: ${body.error}` };
  return { result: body.data.result };
}

async function labelValues(label, match) {
  const start = Math.floor(Date.now() / 1000) - 3600;
  let url = `${args.prometheus}/api/v1/label/${encodeURIComponent(label)}/values?start=${start}`;
  if (match) url += `&match[]=${encodeURIComponent(match)}`;
  const body = await getJson(url);
  if (body.status !== 'success') throw new Error(`label values of ${label} (${match}): ${body.error}`);
  return body.data.filter((v) => v !== '');
}

// ------------------------------------------------------------------------------ output
let failed = false;
function report(ok, what, problems = []) {
  if (!ok) failed = true;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  for (const p of problems) console.log(`       - ${p}`);
}

// ------------------------------------------------------------------------------ dashboards
function loadDashboards() {
  const files = fs.readdirSync(args.dashboards).filter((f) => f.endsWith('.json')).sort();
  const dashboards = [];
  const problems = [];
  for (const file of files) {
    try {
      dashboards.push({ file, json: JSON.parse(fs.readFileSync(path.join(args.dashboards, file), 'utf8')) });
    } catch (error) {
      problems.push(`${file}: ${error.message}`);
    }
  }
  return { files, dashboards, problems };
}

// Panels in order, those inside collapsed rows included.
function panelsOf(dashboard) {
  const out = [];
  for (const panel of dashboard.panels ?? []) {
    out.push(panel);
    for (const inner of panel.panels ?? []) out.push(inner);
  }
  return out;
}

function usesDatasourceVariable(ds) {
  if (ds === undefined || ds === null) return true; // inherits the panel's / dashboard's
  const uid = typeof ds === 'string' ? ds : ds.uid;
  return uid === '${datasource}' || uid === '$datasource' || uid === '-- Grafana --' || uid === '-- Mixed --';
}

function checkDashboardShape(dashboards) {
  const problems = [];
  const uids = new Map();
  for (const { file, json } of dashboards) {
    if (!json.uid) problems.push(`${file}: no uid`);
    else if (uids.has(json.uid)) problems.push(`${file}: uid ${json.uid} also in ${uids.get(json.uid)}`);
    else uids.set(json.uid, file);
    if (!/^covet-sidecar \/ /.test(json.title ?? '')) problems.push(`${file}: title "${json.title}" does not start with "covet-sidecar / "`);
    const vars = json.templating?.list ?? [];
    const ds = vars.find((v) => v.name === 'datasource');
    if (!ds || ds.type !== 'datasource' || ds.query !== 'prometheus') problems.push(`${file}: no \`datasource\` variable of type prometheus`);
    for (const v of vars) {
      if (v.type === 'query' && !usesDatasourceVariable(v.datasource)) problems.push(`${file}: variable ${v.name} does not use $datasource`);
    }
    for (const panel of panelsOf(json)) {
      if (panel.type === 'row') continue;
      if (!usesDatasourceVariable(panel.datasource)) problems.push(`${file}: panel "${panel.title}" does not use $datasource`);
      for (const t of panel.targets ?? []) {
        if (!usesDatasourceVariable(t.datasource)) problems.push(`${file}: panel "${panel.title}" ${t.refId} does not use $datasource`);
      }
      if ((panel.targets ?? []).length === 0) problems.push(`${file}: panel "${panel.title}" has no query`);
    }
  }
  return problems;
}

// Grafana's built-in intervals, fixed for the test: a rate window holding enough 1 s samples.
const BUILTINS = {
  __rate_interval: '1m', __interval: '15s', __interval_ms: '15000', __range: '5m',
  __range_s: '300', __range_ms: '300000',
};

// $name, ${name}, ${name:format} and [[name]] with the values in `vars`.
function substitute(text, vars) {
  const value = (name) => (name in vars ? vars[name] : undefined);
  return text
    .replace(/\$\{(\w+)(?::[^}]*)?\}/g, (m, name) => value(name) ?? m)
    .replace(/\[\[(\w+)\]\]/g, (m, name) => value(name) ?? m)
    .replace(/\$(\w+)/g, (m, name) => value(name) ?? m);
}

function escapeRegex(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Resolves each query variable in order (later ones may use earlier ones), the first real
// value standing for a selection. Returns the values and the variables that found none.
async function resolveVariables(json) {
  const vars = { ...BUILTINS };
  const empty = [];
  for (const v of json.templating?.list ?? []) {
    if (v.type === 'datasource') continue;
    if (v.type === 'query') {
      const query = substitute(typeof v.query === 'string' ? v.query : v.query?.query ?? '', vars);
      const m = /^\s*label_values\(\s*(?:(.*),\s*)?(\w+)\s*\)\s*$/.exec(query);
      let found = [];
      if (m) found = await labelValues(m[2], m[1]);
      else empty.push(`${v.name}: not a label_values() query: ${query}`);
      if (m && found.length === 0) empty.push(`${v.name}: ${query} has no values`);
      vars[v.name] = found.length > 0 ? escapeRegex(found[0]) : (v.allValue ?? '.*');
    } else if (v.type === 'custom' || v.type === 'constant' || v.type === 'textbox' || v.type === 'interval') {
      const first = v.current?.value ?? v.options?.[0]?.value ?? String(v.query ?? '').split(',')[0];
      vars[v.name] = Array.isArray(first) ? first[0] : first;
    }
  }
  return { vars, empty };
}

// ------------------------------------------------------------------------------ main
async function main() {
  // Dashboards: shape.
  const { files, dashboards, problems: parseProblems } = loadDashboards();
  const shape = [...parseProblems, ...checkDashboardShape(dashboards)];
  if (files.length === 0) shape.push(`no dashboards in ${args.dashboards}`);
  report(shape.length === 0, `dashboards: ${files.length} files parse; uid, title, datasource variable`, shape);

  // Rules: what Prometheus loaded, and their health.
  const rulesBody = await getJson(`${args.prometheus}/api/v1/rules`);
  const groups = rulesBody.data?.groups ?? [];
  const rules = groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name, file: g.file })));
  const ruleFiles = new Set(groups.map((g) => g.file));
  const wantFiles = Number(args.rules);
  report(ruleFiles.size === wantFiles,
    `rules: Prometheus loaded ${rules.length} rules in ${groups.length} groups from ${ruleFiles.size} of ${wantFiles} rule files`);
  const recorded = new Set(rules.filter((r) => r.type === 'recording').map((r) => r.name));

  // Rule health needs one evaluation: wait for it, bounded.
  let unhealthy = [];
  for (;;) {
    const body = await getJson(`${args.prometheus}/api/v1/rules`);
    const now = (body.data?.groups ?? []).flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })));
    unhealthy = now.filter((r) => r.health !== 'ok');
    if (unhealthy.length === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  report(unhealthy.length === 0, `rules: all ${rules.length} evaluate without error`,
    unhealthy.map((r) => `${r.group}/${r.name}: ${r.health}${r.lastError ? `: ${r.lastError}` : ''}: ${r.query}`));
  const firing = rules.filter((r) => r.type === 'alerting' && r.state === 'firing').map((r) => r.name);
  if (firing.length > 0) console.log(`info alerts firing on this healthy setup: ${firing.join(', ')}`);

  // Variables.
  const resolved = new Map();
  const emptyVars = [];
  for (const { file, json } of dashboards) {
    const { vars, empty } = await resolveVariables(json);
    resolved.set(file, vars);
    for (const e of empty) emptyVars.push(`${file}: ${e}`);
  }
  report(emptyVars.length === 0, 'variables: every label_values() variable has values', emptyVars);

  // Every query, variables substituted.
  const queries = [];
  for (const { file, json } of dashboards) {
    for (const panel of panelsOf(json)) {
      for (const t of panel.targets ?? []) {
        if (!t.expr) continue;
        queries.push({ where: `${file}: "${panel.title}" ${t.refId}`, raw: t.expr, expr: substitute(t.expr, resolved.get(file)) });
      }
    }
  }

  // Metric names.
  const page = await (await fetch(`${args.sidecar}/metrics`, { signal: AbortSignal.timeout(10000) })).text();
  const existing = new Set(recorded);
  for (const line of page.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (m) existing.add(m[1]);
  }
  for (const name of await labelValues('__name__')) existing.add(name);
  // Series Prometheus makes itself: ALERTS only exists while an alert is pending or firing.
  for (const name of ['ALERTS', 'ALERTS_FOR_STATE', 'up']) existing.add(name);
  const missing = new Map(); // name -> where
  const used = new Set();
  const note = (name, where) => {
    used.add(name);
    if (!existing.has(name)) missing.set(name, [...(missing.get(name) ?? []), where]);
  };
  const parseProblems2 = [];
  for (const r of rules) {
    try {
      for (const name of metricNames(r.query)) note(name, `rule ${r.name}`);
    } catch (error) {
      parseProblems2.push(`rule ${r.name}: ${error.message}`);
    }
  }
  const dashboardNames = new Set();
  for (const q of queries) {
    try {
      for (const name of metricNames(q.expr)) { note(name, q.where); dashboardNames.add(name); }
    } catch (error) {
      parseProblems2.push(`${q.where}: ${error.message}`);
    }
  }
  const missingLines = [...missing].map(([name, where]) => `${name} (${[...new Set(where)].slice(0, 3).join('; ')}${where.length > 3 ? '; ...' : ''})`);
  report(missing.size === 0 && parseProblems2.length === 0,
    `names: all ${used.size} metric names in rules and dashboards exist`, [...parseProblems2, ...missingLines]);
  console.log(`info dashboard metric names: ${[...dashboardNames].sort().join(' ')}`);

  // Queries: retried until each returns data or the deadline passes, since a rate over a
  // window needs two samples in it and postgres/redis statistics arrive every stats_interval.
  let pending = queries;
  let problems = [];
  for (;;) {
    problems = [];
    const still = [];
    for (const q of pending) {
      const { error, result } = await promQuery(q.expr);
      if (error) problems.push(`${q.where}: error: ${error}: ${q.expr}`);
      else if (result.length === 0) { problems.push(`${q.where}: no data: ${q.expr}`); still.push(q); }
    }
    // An error does not go away by waiting; an empty result may.
    if (still.length === 0 || problems.length > still.length || Date.now() > deadline) break;
    pending = still;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  report(problems.length === 0, `queries: all ${queries.length} dashboard queries return data`, problems);

  console.log(failed ? 'FAIL' : 'PASS');
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.log(`FAIL ${error.stack}`);
  process.exit(1);
});
