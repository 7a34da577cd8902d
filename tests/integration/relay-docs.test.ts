/**
 * Every snippet an operator may paste from docs/operators.md, docs/relay.md
 * and the tarball's README is extracted and checked (issue 20: the nftables
 * ruleset printed in the guide failed `nft -c` while the shipped file
 * passed):
 *
 *  - ```sh: `bash -n` (syntax), and every `--flag` given to hush-relay or
 *    `npm run relay --` is one the relay knows;
 *  - ```json: JSON.parse; a relay config is run through the relay's own
 *    `--check-config` (file paths pointed at real temporary files), which
 *    must exit 0; the shipped relay.json.example and container.json too;
 *  - ```nft: `nft -c` (when nft runs here), and the guide's ruleset is the
 *    shipped hush-relay.nft;
 *  - ```yaml: parsed; the shipped alert rules parse, each rule has an alert
 *    name and an expression naming only metrics the relay exports (or `up`);
 *    the dashboard JSON parses and queries only such metrics.
 * The test fails if a document yields no snippet of a kind it is known to
 * have, so a renamed fence cannot silently turn the check off.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, relayCommand } from '../harness/relay';
import { selfSignedCert } from '../harness/tls-cert';
import { helpText } from '../../relay-server/src/config';

const dir = mkdtempSync(join(tmpdir(), 'hush-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DOCS = ['docs/operators.md', 'docs/relay.md', 'relay-server/deploy/README.md'];
const DEPLOY = join(REPO_ROOT, 'relay-server/deploy');

interface Snippet {
  doc: string;
  line: number;
  lang: string;
  text: string;
}

function snippets(doc: string): Snippet[] {
  const lines = readFileSync(join(REPO_ROOT, doc), 'utf8').split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    out.push({ doc, line: start + 1, lang: open[1]!, text: body.join('\n') + '\n' });
  }
  return out;
}

const all = DOCS.flatMap(snippets);
const of = (lang: string) => all.filter((s) => s.lang === lang);
const where = (s: Snippet) => `${s.doc}:${s.line}`;

/** The relay's own config check, as an operator runs it. */
function checkConfig(file: string): { status: number | null; out: string } {
  const { cmd, argv } = relayCommand(['--check-config', file]);
  const r = spawnSync(cmd, argv, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** A relay config with its file paths pointed at real files made here. */
function materialize(config: Record<string, unknown>, name: string): string {
  const c = { ...config };
  if (c.tlsCert || c.tlsKey) {
    const certs = selfSignedCert(mkdtempSync(join(dir, 'tls-')));
    c.tlsCert = certs.cert;
    c.tlsKey = certs.key;
  }
  if (c.authSecretsFile) {
    const f = join(dir, `${name}-secrets`);
    writeFileSync(f, 'Zk3q9vUu0V2n8pQ4dW1xY7rT5sA6bC3e\n');
    c.authSecretsFile = f;
  }
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(c));
  return file;
}

describe('snippets in the operator docs', () => {
  test('every document has its snippets (the extraction finds them)', () => {
    expect(of('sh').length).toBeGreaterThanOrEqual(10);
    expect(of('json').length).toBeGreaterThanOrEqual(1);
    expect(of('nft').length).toBe(1);
    expect(of('yaml').length).toBe(1);
  });

  test('shell: bash -n accepts each; every hush-relay flag exists', () => {
    const flags = new Set([...helpText().matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]));
    for (const s of of('sh')) {
      const f = join(dir, 'snippet.sh');
      writeFileSync(f, s.text);
      const r = spawnSync('bash', ['-n', f], { encoding: 'utf8' });
      expect(r.status, `${where(s)}: ${r.stderr}`).toBe(0);
      for (const line of s.text.replace(/\\\n/g, ' ').split('\n')) {
        const at = line.search(/bin\/hush-relay\b|npm run relay --/);
        if (at < 0) continue;
        for (const m of line.slice(at).matchAll(/(?<=\s)--[a-z][a-z-]*/g)) expect(flags.has(m[0]), `${where(s)}: unknown flag ${m[0]} in: ${line.trim()}`).toBe(true);
      }
    }
  });

  test('JSON: parses; relay configs pass --check-config (paths made real); so do the shipped ones', () => {
    const configs: Array<[string, Record<string, unknown>]> = [];
    for (const s of of('json')) {
      let v: unknown;
      expect(() => (v = JSON.parse(s.text)), where(s)).not.toThrow();
      configs.push([where(s), v as Record<string, unknown>]);
    }
    for (const f of ['relay.json.example', 'container.json']) configs.push([f, JSON.parse(readFileSync(join(DEPLOY, f), 'utf8')) as Record<string, unknown>]);
    for (const [i, [name, config]] of configs.entries()) {
      const r = checkConfig(materialize(config, `config-${i}`));
      expect(r.status, `${name}:\n${r.out}`).toBe(0);
      expect(r.out).toMatch(/^config OK: /m);
      // Values left from the examples are pointed out.
      if (config.externalIp === '198.51.100.20') expect(r.out, name).toMatch(/^warn: "externalIp" 198\.51\.100\.20 is in a documentation range/m);
    }
  });

  test('a broken JSON config is reported with its line and column by --check-config', () => {
    const f = join(dir, 'broken.json');
    writeFileSync(f, '{\n  "listen": "0.0.0.0"\n  "port": 3478\n}\n');
    const r = checkConfig(f);
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/not valid JSON: .*\(line 3 column 3\)/);
  });

  test('nftables: the guide prints the shipped ruleset, and nft -c accepts it (when nft runs here)', (ctx) => {
    const [s] = of('nft');
    expect(s!.text).toBe(readFileSync(join(DEPLOY, 'hush-relay.nft'), 'utf8'));
    if (spawnSync('sh', ['-c', 'command -v nft']).status !== 0) return ctx.skip();
    const f = join(dir, 'guide.nft');
    writeFileSync(f, s!.text);
    const c = spawnSync('nft', ['-c', '-f', f], { encoding: 'utf8' });
    if (/Operation not permitted/.test(c.stderr)) return ctx.skip();
    expect(c.status, `${where(s!)}: ${c.stderr}`).toBe(0);
  });

  test('YAML, alert rules and dashboard: parse, and query only metrics the relay exports', async () => {
    // js-yaml comes with the dev tools (no types of its own here): named through a variable so tsc does not resolve it.
    const yamlModule = 'js-yaml';
    const yaml = (await import(yamlModule)) as { load(text: string): unknown };
    for (const s of of('yaml')) expect(() => yaml.load(s.text), where(s)).not.toThrow();
    // The metric names the relay can export, from the docs' own table (checked against a real scrape in relay-ops.test.ts).
    const guide = readFileSync(join(REPO_ROOT, 'docs/operators.md'), 'utf8');
    const known = new Set(['up', ...[...guide.matchAll(/`(hush_relay_[a-z_]+)/g)].map((m) => m[1]!)]);
    // "…_auth_failures_total" style abbreviations in the table: expand against their row's first name.
    for (const m of guide.matchAll(/`(hush_relay_[a-z]+)_[a-z_]+`, `…(_[a-z_]+)`/g)) known.add(m[1]! + m[2]!);
    const names = (expr: string) => [...expr.matchAll(/\b(hush_relay_[a-z_]+|up)\b(?!\s*\()/g)].map((m) => m[1]!);
    const rules = yaml.load(readFileSync(join(DEPLOY, 'hush-relay.rules.yml'), 'utf8')) as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string }> }> };
    const list = rules.groups.flatMap((g) => g.rules);
    expect(list.length).toBeGreaterThanOrEqual(6);
    for (const r of list) {
      expect(r.alert).toMatch(/^HushRelay[A-Za-z]+$/);
      for (const n of names(r.expr)) expect(known.has(n), `${r.alert}: ${n} is not a metric the relay exports (docs/operators.md table)`).toBe(true);
    }
    const dash = JSON.parse(readFileSync(join(DEPLOY, 'hush-relay.dashboard.json'), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    expect(dash.panels.length).toBeGreaterThanOrEqual(4);
    for (const p of dash.panels) for (const t of p.targets) for (const n of names(t.expr)) expect(known.has(n), `${p.title}: ${n}`).toBe(true);
  });
});
