import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/**
 * No export that nothing imports. Every source file of the workspaces is parsed (syntax only, a
 * few seconds), each import, re-export and dynamic `import()` is followed to the file
 * that declares the name, and what is left over is an export no source, test, script, bench or
 * console file reads: dead code, or an `export` keyword its own module does not need. The public
 * entry points below count as read in full, since their readers live outside this tree.
 */

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** Modules whose every export is read from outside this tree. */
const ENTRY_POINTS: readonly string[] = [
  // The published client: its whole surface (including the contract's wire types it re-exports) is API.
  "packages/sdk/src/index.ts",
  // scripts/check-runtime.mjs compiles this file alone and imports from its output.
  "packages/worker/src/runtime-check.ts",
  // The CLI package's declared entry (package.json `main`), kept for whoever imports the package.
  "packages/cli/src/index.ts",
];

/** The files below `dir` whose names pass `keep`, leaving out node_modules and build output. */
function walk(dir: string, keep: (name: string) => boolean, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, keep, out);
    else if (keep(name)) out.push(path);
  }
  return out;
}

const isSource = (name: string) => /\.(?:ts|tsx|mts)$/.test(name) && !name.endsWith(".d.ts");
const isScript = (name: string) => /\.(?:mjs|js)$/.test(name);
const isTest = (file: string) => /\.test(?:-d)?\.tsx?$/.test(file);

/** A compiled path (…/dist/x.js) or an import path (./x.js) → the source file, if there is one. */
function toSource(path: string): string | undefined {
  const inSrc = path.replace(/\/dist\//, "/src/");
  const candidates = inSrc === path ? [path] : [inSrc, path];
  for (const c of candidates) {
    const base = c.replace(/\.(?:m?js|jsx)$/, "");
    for (const file of [`${base}.ts`, `${base}.tsx`, `${base}.mts`, c, join(c, "index.ts")]) {
      if (existsSync(file) && statSync(file).isFile()) return file;
    }
  }
  return undefined;
}

/** What one module exports: names it declares, names it passes on from another, and `export *`. */
interface ModuleExports {
  local: Map<string, ts.Node>;
  reexports: Map<string, { from: string; name: string }>;
  stars: string[];
}

function parse(file: string): ts.SourceFile {
  const text = readFileSync(file, "utf8");
  const kind = file.endsWith(".tsx") ? ts.ScriptKind.TSX : isScript(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
}

const hasExport = (node: ts.Node) =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
const hasDefault = (node: ts.Node) =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);

function bindingNames(name: ts.BindingName): ts.Identifier[] {
  if (ts.isIdentifier(name)) return [name];
  return name.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : bindingNames(e.name)));
}

/** The names a destructuring of a module namespace reads, or undefined when it reads it whole. */
function destructured(pattern: ts.BindingName): string[] | undefined {
  if (!ts.isObjectBindingPattern(pattern) || pattern.elements.some((e) => e.dotDotDotToken)) return undefined;
  return pattern.elements.map((e) => (e.propertyName ?? e.name).getText());
}

/** Which names of `ns` (an `import * as ns`) a file reads: `ns.x` only, or all of them. */
function namespaceReads(source: ts.SourceFile, ns: string, declaration: ts.Node): string[] {
  const names: string[] = [];
  let whole = false;
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node) && node.text === ns && node !== declaration) {
      const parent = node.parent;
      if (ts.isPropertyAccessExpression(parent) && parent.expression === node) names.push(parent.name.text);
      else if (ts.isQualifiedName(parent) && parent.left === node) names.push(parent.right.text);
      else whole = true;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return whole ? ["*"] : names;
}

/**
 * The names `await import("m")` is destructured into: `const { a } = await import("m")`, and
 * `const [{ a }, { b }] = await Promise.all([import("m"), import("n")])`. Anything else reads all.
 */
function dynamicReads(call: ts.CallExpression): string[] {
  let node: ts.Node = call;
  let index: number | undefined;
  if (ts.isArrayLiteralExpression(node.parent)) {
    index = node.parent.elements.indexOf(node as ts.Expression);
    node = node.parent;
    if (ts.isCallExpression(node.parent) && /^Promise\.all(?:Settled)?$/.test(node.parent.expression.getText())) node = node.parent;
    else return ["*"];
  }
  while (ts.isParenthesizedExpression(node.parent) || ts.isAwaitExpression(node.parent)) node = node.parent;
  const declaration = node.parent;
  if (!ts.isVariableDeclaration(declaration) || declaration.initializer !== node) return ["*"];
  let pattern: ts.BindingName | undefined = declaration.name;
  if (index !== undefined) {
    if (!ts.isArrayBindingPattern(pattern)) return ["*"];
    const element = pattern.elements[index];
    if (!element) return [];
    if (ts.isOmittedExpression(element)) return [];
    pattern = element.name;
  }
  return destructured(pattern) ?? ["*"];
}

/** Whether a name is used in its own module besides where it is declared and exported. */
function usedLocally(source: ts.SourceFile, name: string, declaration: ts.Node): boolean {
  let used = false;
  const visit = (node: ts.Node) => {
    if (used) return;
    if (ts.isIdentifier(node) && node.text === name && node !== declaration) {
      const parent = node.parent;
      const isExportSpecifier = ts.isExportSpecifier(parent);
      const isMemberName = (ts.isPropertyAccessExpression(parent) && parent.name === node) || (ts.isPropertyAssignment(parent) && parent.name === node) ||
        (ts.isPropertySignature(parent) && parent.name === node) || (ts.isPropertyDeclaration(parent) && parent.name === node) ||
        (ts.isMethodDeclaration(parent) && parent.name === node) || (ts.isMethodSignature(parent) && parent.name === node);
      if (!isExportSpecifier && !isMemberName) used = true;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return used;
}

/**
 * Every export under `root`'s workspaces (their package.json `workspaces`) that nothing reads, as
 * `file: name (why)`; the modules in `entryPoints` count as read in full.
 */
function unusedExports(root: string, entryPoints: readonly string[]): string[] {
  const workspaces: string[] = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { workspaces: string[] }).workspaces;

  /** A package name (and subpath) → the source file its `main` or `exports` map points at. */
  const packageEntries = new Map<string, string>();
  for (const ws of workspaces) {
    const manifest = JSON.parse(readFileSync(join(root, ws, "package.json"), "utf8")) as {
      name: string;
      main?: string;
      exports?: Record<string, string | { default?: string }>;
    };
    const targets: Record<string, string> = {};
    if (manifest.main) targets["."] = manifest.main;
    const exportsMap = manifest.exports ?? {};
    for (const [sub, target] of Object.entries(exportsMap)) {
      const path = typeof target === "string" ? target : target.default;
      if (path && sub.startsWith(".")) targets[sub] = path;
    }
    if (typeof exportsMap.default === "string") targets["."] = exportsMap.default;
    for (const [sub, path] of Object.entries(targets)) {
      const source = toSource(join(root, ws, path));
      if (source) packageEntries.set(sub === "." ? manifest.name : `${manifest.name}${sub.slice(1)}`, source);
    }
  }

  function resolveSpecifier(from: string, spec: string): string | undefined {
    if (spec.startsWith(".")) return toSource(resolve(dirname(from), spec));
    return packageEntries.get(spec);
  }

  const modules = new Map<string, ModuleExports>();
  const parsed = new Map<string, ts.SourceFile>();
  /** Reads to follow: a file and a name in it ("*" for all it exports). */
  const reads: Array<[string, string]> = [];

  function scan(file: string): void {
    const source = parse(file);
    parsed.set(file, source);
    const own: ModuleExports = { local: new Map(), reexports: new Map(), stars: [] };
    modules.set(file, own);
    const read = (spec: string, name: string) => {
      const target = resolveSpecifier(file, spec);
      if (target) reads.push([target, name]);
    };

    for (const statement of source.statements) {
      if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
        const spec = statement.moduleSpecifier.text;
        const clause = statement.importClause;
        if (!clause) continue;
        if (clause.name) read(spec, "default");
        const bindings = clause.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) {
          // A test that walks a whole namespace (fuzz.test.ts: every schema the contract exports)
          // reads what production code exports, it does not keep a name alive.
          const names = namespaceReads(source, bindings.name.text, bindings.name);
          for (const name of names) if (name !== "*" || !isTest(file)) read(spec, name);
        } else if (bindings) {
          for (const element of bindings.elements) read(spec, (element.propertyName ?? element.name).text);
        }
      } else if (ts.isExportDeclaration(statement)) {
        const spec = statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : undefined;
        const clause = statement.exportClause;
        if (spec === undefined) {
          if (clause && ts.isNamedExports(clause)) {
            for (const element of clause.elements) own.local.set(element.name.text, element);
          }
          continue;
        }
        const target = resolveSpecifier(file, spec);
        if (!target) continue;
        if (!clause) own.stars.push(target);
        else if (ts.isNamespaceExport(clause)) own.reexports.set(clause.name.text, { from: target, name: "*" });
        else {
          for (const element of clause.elements) {
            own.reexports.set(element.name.text, { from: target, name: (element.propertyName ?? element.name).text });
          }
        }
      } else if (ts.isExportAssignment(statement)) {
        own.local.set("default", statement);
      } else if (hasExport(statement)) {
        if (hasDefault(statement)) own.local.set("default", statement);
        else if (ts.isVariableStatement(statement)) {
          for (const d of statement.declarationList.declarations) for (const id of bindingNames(d.name)) own.local.set(id.text, id);
        } else {
          const name = (statement as ts.DeclarationStatement).name;
          if (name && ts.isIdentifier(name)) own.local.set(name.text, name);
        }
      }
    }

    // `import("m")` in code and `import("m").X` in types, wherever they stand.
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const arg = node.arguments[0];
        if (arg && ts.isStringLiteralLike(arg)) {
          for (const name of dynamicReads(node)) read(arg.text, name);
        }
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        const spec = node.argument.literal.text;
        if (node.qualifier) read(spec, ts.isIdentifier(node.qualifier) ? node.qualifier.text : node.qualifier.left.getText());
        else read(spec, "*");
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }

  /** Marks (file, name) read, following re-exports and `export *` to where each name is declared. */
  function follow(): Set<string> {
    const read = new Set<string>();
    const queue = [...reads];
    while (queue.length > 0) {
      const [file, name] = queue.pop()!;
      const key = `${file}#${name}`;
      if (read.has(key)) continue;
      read.add(key);
      const module = modules.get(file);
      if (!module) continue;
      if (name === "*") {
        for (const local of module.local.keys()) queue.push([file, local]);
        for (const [exported, target] of module.reexports) {
          queue.push([file, exported]);
          queue.push([target.from, target.name]);
        }
        for (const star of module.stars) queue.push([star, "*"]);
        continue;
      }
      if (module.local.has(name)) continue;
      const target = module.reexports.get(name);
      if (target) queue.push([target.from, target.name]);
      else for (const star of module.stars) queue.push([star, name]);
    }
    return read;
  }

  const sourceFiles = workspaces.flatMap((ws) => walk(join(root, ws, "src"), isSource));
  const consumers = [
    ...walk(join(root, "scripts"), isScript),
    ...walk(join(root, "bench"), isScript),
    ...workspaces.flatMap((ws) => walk(join(root, ws, "bin"), isScript)),
    ...workspaces.map((ws) => join(root, ws, "vite.config.ts")).filter(existsSync),
  ];
  for (const file of [...sourceFiles, ...consumers]) scan(file);
  for (const entry of entryPoints) reads.push([join(root, entry), "*"]);
  const read = follow();

  const unused: string[] = [];
  for (const file of sourceFiles) {
    if (isTest(file)) continue;
    const module = modules.get(file)!;
    const at = relative(root, file);
    for (const [name, node] of module.local) {
      if (read.has(`${file}#${name}`) || read.has(`${file}#*`)) continue;
      const local = name !== "default" && usedLocally(parsed.get(file)!, name, node);
      unused.push(`${at}: ${name} (${local ? "used only in its own module" : "used nowhere"})`);
    }
    for (const [name] of module.reexports) {
      if (read.has(`${file}#${name}`) || read.has(`${file}#*`)) continue;
      unused.push(`${at}: ${name} (re-exported, read by no importer)`);
    }
  }
  return unused.sort();
}

test("every export is imported somewhere: no dead code, no export its module alone uses", () => {
  const started = Date.now();
  const unused = unusedExports(root, ENTRY_POINTS);
  assert.deepEqual(unused, [], "remove dead code, drop `export` where only its own module reads the name, or name a public entry point in ENTRY_POINTS");
  assert.ok(Date.now() - started < 20_000, "the scan stays fast");
});

test("the scan follows imports, re-exports and import() and names what nothing reads", () => {
  const tree = mkdtempSync(join(tmpdir(), "sailfin-dead-code-"));
  try {
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(tree, path)), { recursive: true });
      writeFileSync(join(tree, path), text);
    };
    write("package.json", JSON.stringify({ workspaces: ["packages/lib", "packages/app"] }));
    write("packages/lib/package.json", JSON.stringify({ name: "@x/lib", main: "./dist/index.js" }));
    write("packages/app/package.json", JSON.stringify({ name: "@x/app", main: "./dist/main.js" }));
    write("packages/lib/src/index.ts", 'export * from "./parts.js";\nexport { later, spare } from "./later.js";\n');
    write("packages/lib/src/parts.ts", [
      "export function read() { return helper(); }",
      "export function helper() { return 1; }",
      "export const dead = 2;",
      "export type Shape = { a: number };",
    ].join("\n"));
    write("packages/lib/src/later.ts", "export const later = 1;\nexport const spare = 2;\n");
    write("packages/app/src/main.ts", [
      'import { read, type Shape } from "@x/lib";',
      'export async function main(s: Shape) { const { later } = await import("@x/lib"); return read() + later + s.a; }',
    ].join("\n"));
    assert.deepEqual(unusedExports(tree, ["packages/app/src/main.ts"]), [
      "packages/lib/src/index.ts: spare (re-exported, read by no importer)",
      "packages/lib/src/later.ts: spare (used nowhere)",
      "packages/lib/src/parts.ts: dead (used nowhere)",
      "packages/lib/src/parts.ts: helper (used only in its own module)",
    ]);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
});
