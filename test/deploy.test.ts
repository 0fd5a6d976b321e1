import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../src/config/env-schema.js';
import { loadConfig } from '../src/config/load-config.js';
import { Metrics } from '../src/runtime/metrics.js';
import { startGateway } from './support/gateway.js';
import { waitFor } from './support/wait.js';

/**
 * deploy/ checked without a cluster: every YAML and JSON file parses; the Kubernetes manifests' probes,
 * ports, environment and shutdown timings agree with the gateway (its health routes, its configuration
 * schema, its drain); the Grafana dashboard queries only metrics the gateway exports, with their labels.
 * docker-compose.yml's `monitoring` profile is checked with the compose file (test/compose.test.ts).
 */
const ROOT = resolve(import.meta.dirname, '..');
const DEPLOY = join(ROOT, 'deploy');

/** Every file under `dir`, as paths relative to the repository root. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [relative(ROOT, join(dir, entry.name))]);
}

type Manifest = { kind: string; apiVersion: string; metadata: { name: string; labels?: Record<string, string> }; [key: string]: unknown };

/** The documents of the Kubernetes manifests, each with the file it came from. */
function kubernetesManifests(): { file: string; manifest: Manifest }[] {
  return filesUnder(join(DEPLOY, 'kubernetes'))
    .filter((file) => /\.ya?ml$/.test(file) && !file.endsWith('kustomization.yaml'))
    .flatMap((file) => parseAllDocuments(readFileSync(join(ROOT, file), 'utf8')).map((document) => ({ file, manifest: document.toJS() as Manifest })));
}

function only(kind: string, file?: string): Manifest {
  const found = kubernetesManifests().filter(({ manifest, file: from }) => manifest.kind === kind && (file === undefined || from.endsWith(file)));
  expect(found.map(({ file: from }) => from), kind).toHaveLength(1);
  return found[0]!.manifest;
}

interface HttpProbe { httpGet: { path: string; port: string | number }; periodSeconds: number; failureThreshold: number }
interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }
interface Container {
  name: string;
  ports: { name: string; containerPort: number }[];
  env: EnvVar[];
  readinessProbe: HttpProbe;
  livenessProbe: HttpProbe;
  lifecycle: { preStop: { exec: { command: string[] } } };
  volumeMounts: { name: string; mountPath: string }[];
}
interface Deployment extends Manifest {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { terminationGracePeriodSeconds: number; containers: Container[]; securityContext: { runAsNonRoot: boolean } } };
  };
}

const deployment = () => only('Deployment') as Deployment;
const container = () => deployment().spec.template.spec.containers[0]!;
const secretExample = () => only('Secret', 'secret.example.yaml') as Manifest & { stringData: Record<string, string> };

/** The container's environment: literal values, and the example Secret's placeholders where a Secret is referenced. */
function containerEnv(): Record<string, string> {
  const secret = secretExample();
  return Object.fromEntries(container().env.map(({ name, value, valueFrom }) => {
    const ref = valueFrom?.secretKeyRef;
    if (ref === undefined) return [name, value ?? ''];
    expect(ref.name, `${name}'s Secret`).toBe(secret.metadata.name);
    expect(Object.keys(secret.stringData), `${name}'s Secret key`).toContain(ref.key);
    return [name, secret.stringData[ref.key]!];
  }));
}

/** The container port a probe's named (or numbered) port resolves to. */
function containerPortOf(port: string | number): number {
  if (typeof port === 'number') return port;
  const named = container().ports.find((candidate) => candidate.name === port);
  if (named === undefined) throw new Error(`no container port named ${port}`);
  return named.containerPort;
}

/** `subset`'s labels all appear in `labels` with the same values (a selector matching them). */
function selects(subset: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.keys(subset).length > 0 && Object.entries(subset).every(([key, value]) => labels?.[key] === value);
}

describe('deploy/', () => {
  it('every YAML and JSON file parses', () => {
    const files = filesUnder(DEPLOY);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      if (file.endsWith('.json')) expect(() => JSON.parse(text), file).not.toThrow();
      else if (/\.ya?ml$/.test(file)) expect(parseAllDocuments(text).flatMap((document) => document.errors.map((error) => error.message)), file).toEqual([]);
      else throw new Error(`${file}: only YAML and JSON belong in deploy/`);
    }
  });

  it('every environment variable the manifests and docker-compose.yml set is one the configuration schema declares', () => {
    const declared = Object.keys(envSchema.shape);
    const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: { switchboard: { environment: Record<string, string> } } };
    const used = [...Object.keys(containerEnv()), ...Object.keys(compose.services.switchboard.environment)];
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((name) => !declared.includes(name))).toEqual([]);
  });
});

describe('deploy/kubernetes', () => {
  it('the manifests with the example Secret are a valid production configuration', () => {
    const config = loadConfig(containerEnv());
    expect(config.nodeEnv).toBe('production');
    expect(config.redis).toBeDefined();
    expect(Object.values(config.generated).filter((value) => value !== undefined)).toEqual([]);
  });

  it('kustomization.yaml applies the manifests (all but the example Secret), and they select each other', () => {
    const kustomization = parseYaml(readFileSync(join(DEPLOY, 'kubernetes/kustomization.yaml'), 'utf8')) as { resources: string[] };
    const manifests = kubernetesManifests();
    expect(kustomization.resources.map((file) => posix.join('deploy/kubernetes', file)).sort())
      .toEqual([...new Set(manifests.map(({ file }) => file))].filter((file) => !file.endsWith('secret.example.yaml')).sort());
    for (const file of kustomization.resources) expect(existsSync(join(DEPLOY, 'kubernetes', file)), file).toBe(true);

    const { spec } = deployment();
    const podLabels = spec.template.metadata.labels;
    expect(selects(spec.selector.matchLabels, podLabels)).toBe(true);
    const service = only('Service') as Manifest & { spec: { selector: Record<string, string>; ports: { name: string; targetPort: string | number }[] } };
    expect(selects(service.spec.selector, podLabels)).toBe(true);
    for (const port of service.spec.ports) expect(container().ports.map((p) => p.name), port.name).toContain(port.targetPort);
    const budget = only('PodDisruptionBudget') as Manifest & { spec: { selector: { matchLabels: Record<string, string> } } };
    expect(selects(budget.spec.selector.matchLabels, podLabels)).toBe(true);

    // The ServiceMonitor scrapes the Service's `metrics` port, which reaches METRICS_PORT.
    const monitor = only('ServiceMonitor') as Manifest & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } };
    expect(selects(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    const [endpoint] = monitor.spec.endpoints;
    expect(endpoint?.path).toBe('/metrics');
    const scraped = service.spec.ports.find((port) => port.name === endpoint?.port);
    expect(scraped).toBeDefined();
    expect(containerPortOf(scraped!.targetPort)).toBe(envSchema.shape.METRICS_PORT.parse(containerEnv().METRICS_PORT));
  });

  it('probes /readyz (readiness) and /healthz (liveness) on the container port the gateway listens on (PORT)', () => {
    const { readinessProbe, livenessProbe } = container();
    expect(readinessProbe.httpGet.path).toBe('/readyz');
    expect(livenessProbe.httpGet.path).toBe('/healthz');
    const { port } = loadConfig(containerEnv());
    expect(containerPortOf(readinessProbe.httpGet.port)).toBe(port);
    expect(containerPortOf(livenessProbe.httpGet.port)).toBe(port);
  });

  it('the probe paths answer as the probes need: both 200 when serving; while draining readiness 503, liveness still 200', async () => {
    const { readinessProbe, livenessProbe } = container();
    const { url, gateway } = await startGateway({ SHUTDOWN_DELAY_MS: '1500' });
    expect((await fetch(`${url}${readinessProbe.httpGet.path}`)).status).toBe(200);
    expect((await fetch(`${url}${livenessProbe.httpGet.path}`)).status).toBe(200);

    const closed = gateway.close();
    await waitFor(async () => (await fetch(`${url}${readinessProbe.httpGet.path}`)).status === 503, { what: 'readiness to fail while draining' });
    expect((await fetch(`${url}${livenessProbe.httpGet.path}`)).status).toBe(200);
    await closed;
  });

  it('the drain fits the grace period: preStop, then SIGTERM and SHUTDOWN_DELAY_MS, all within terminationGracePeriodSeconds', () => {
    const config = loadConfig(containerEnv());
    const { preStop } = container().lifecycle;
    expect(preStop.exec.command.slice(0, 1)).toEqual(['sleep']);
    const preStopMs = Number(preStop.exec.command[1]) * 1000;
    expect(preStopMs).toBeGreaterThan(0);
    const graceMs = deployment().spec.template.spec.terminationGracePeriodSeconds * 1000;

    // Kubernetes SIGKILLs at the end of the grace period, which starts with preStop: the whole shutdown
    // (bounded by SHUTDOWN_TIMEOUT_MS from SIGTERM) must end before it.
    expect(preStopMs + config.shutdownTimeoutMs).toBeLessThan(graceMs);
    // The delay before clients are closed is part of the shutdown the timeout bounds.
    expect(config.shutdownDelayMs).toBeLessThan(config.shutdownTimeoutMs);
    // Before the clients are told to reconnect, the readiness probe has failed (or the pod left the endpoints
    // during preStop), so no balancer sends them back to this pod.
    const { periodSeconds, failureThreshold } = container().readinessProbe;
    expect(preStopMs + config.shutdownDelayMs).toBeGreaterThanOrEqual(periodSeconds * failureThreshold * 1000);
  });

  it('runs as a non-root user with DATA_DIR on a writable volume', () => {
    const { spec } = deployment().spec.template;
    expect(spec.securityContext.runAsNonRoot).toBe(true);
    // The image's working directory (Dockerfile WORKDIR) + DATA_DIR's default.
    const workdir = /^WORKDIR\s+(\S+)/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split(/^FROM /m).at(-1) ?? '')?.[1];
    const dataDir = posix.join(workdir ?? '', loadConfig(containerEnv()).dataDir);
    expect(container().volumeMounts.map((mount) => mount.mountPath)).toContain(dataDir);
  });
});

/** A Grafana panel (rows carry no targets). */
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: { expr: string }[];
}

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

/**
 * The metric names a PromQL expression reads, and the labels its `by (…)` clauses group by. Label matchers
 * (`{…}`), ranges (`[…]`), strings and numbers are dropped first; what remains that is not a function call or
 * a keyword is a metric name.
 */
function promqlNames(expr: string): { metrics: string[]; groupLabels: string[] } {
  const groupLabels = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((match) => match[1]!.split(',').map((label) => label.trim()).filter(Boolean));
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without)\s*\([^)]*\)/g, ' ');
  const metrics = [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter((match) => !/^\s*\(/.test(bare.slice(match.index + match[0].length)))
    .map((match) => match[0])
    .filter((name) => !PROMQL_KEYWORDS.has(name));
  return { metrics, groupLabels };
}

/** Every metric the gateway can export (the auth service's included), with its label names; prom-client's default metrics among them. */
async function exportedMetrics(): Promise<Map<string, { type: string; labels: string[] }>> {
  const metrics = new Metrics('deploy-test');
  metrics.registerAuthService();
  const exported = new Map<string, { type: string; labels: string[] }>();
  for (const { name, type, labels } of await metrics.catalog()) exported.set(name, { type, labels: [...labels] });
  return exported;
}

/** The exported metric a series name belongs to: histograms expose `_bucket` (with `le`), `_sum` and `_count`. */
function seriesOf(series: string, exported: Map<string, { type: string; labels: string[] }>): { name: string; labels: string[] } | undefined {
  const direct = exported.get(series);
  if (direct !== undefined) return { name: series, labels: direct.labels };
  const histogram = /^(.*)_(bucket|sum|count)$/.exec(series);
  const base = histogram === null ? undefined : exported.get(histogram[1]!);
  if (base?.type !== 'histogram') return undefined;
  return { name: histogram![1]!, labels: histogram![2] === 'bucket' ? [...base.labels, 'le'] : base.labels };
}

describe('deploy/grafana/switchboard.json', () => {
  const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana/switchboard.json'), 'utf8')) as {
    uid: string;
    panels: Panel[];
    templating: { list: { name: string; type: string; query: string | { query: string } }[] };
  };
  const charts = dashboard.panels.filter((panel) => panel.type !== 'row');
  const queries = charts.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
  const variableQueries = dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => ({ panel: `variable ${variable.name}`, expr: /label_values\((\w+)/.exec(typeof variable.query === 'string' ? variable.query : variable.query.query)?.[1] ?? '' }));

  it('queries only metrics the gateway exports, grouped only by labels they carry', async () => {
    const exported = await exportedMetrics();
    expect(queries.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const { panel, expr } of [...queries, ...variableQueries]) {
      const { metrics, groupLabels } = promqlNames(expr);
      if (metrics.length === 0) problems.push(`${panel}: no metric in ${expr}`);
      const series = metrics.map((name) => ({ name, found: seriesOf(name, exported) }));
      for (const { name } of series.filter(({ found }) => found === undefined)) problems.push(`${panel}: ${name} is not exported`);
      const labels = new Set(series.flatMap(({ found }) => found?.labels ?? []));
      for (const label of groupLabels.filter((label) => !labels.has(label))) problems.push(`${panel}: no label ${label} on ${metrics.join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('charts every switchboard_* metric the gateway exports', async () => {
    const exported = await exportedMetrics();
    const charted = new Set(queries.flatMap(({ expr }) => promqlNames(expr).metrics.map((name) => seriesOf(name, exported)?.name)));
    expect([...exported.keys()].filter((name) => name.startsWith('switchboard_') && !charted.has(name))).toEqual([]);
  });

  it('the checks above can fail: an unknown metric, a histogram suffix on a counter, a label the metric lacks', async () => {
    const exported = await exportedMetrics();
    expect(seriesOf('switchboard_conections', exported)).toBeUndefined();
    expect(seriesOf('switchboard_handshakes_total_bucket', exported)).toBeUndefined();
    expect(seriesOf('switchboard_publish_duration_seconds_bucket', exported)?.labels).toContain('le');
    expect(promqlNames('sum by (transport) (rate(switchboard_handshakes_total{node=~"$node",result="ok"}[5m]))'))
      .toEqual({ metrics: ['switchboard_handshakes_total'], groupLabels: ['transport'] });
    expect(exported.get('switchboard_handshakes_total')?.labels).not.toContain('transport');
  });

  it('is one grid of uniquely numbered panels on the dashboard\'s data source variable', () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(expect.arrayContaining(['datasource', 'node']));
    const taken = new Set<string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let row = y; row < y + h; row += 1) {
        for (let column = x; column < x + w; column += 1) {
          expect(taken.has(`${row},${column}`), `${panel.title} overlaps another panel`).toBe(false);
          taken.add(`${row},${column}`);
        }
      }
    }
    for (const panel of charts) expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
  });
});
