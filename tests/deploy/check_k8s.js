#!/usr/bin/env node
// Schema check of Kubernetes manifests against the upstream OpenAPI
// schemas, as packaged by kubernetes-models (which validates a model on
// construction: types, required fields, enums, quantity formats), plus
// what those schemas leave open: a field the API does not know (a typo
// such as `hostPid`) is an error here, as `kubectl apply
// --validate=strict` makes it on a real cluster. The known fields come
// from the package's type declarations of the same schemas.
//
//   node check_k8s.js FILE.yaml [--extract-configmap NAME KEY OUT]
//
// Prints one line per document ("ok KIND/NAME" or "invalid KIND/NAME:
// why") and exits 1 if any document is invalid. --extract-configmap
// writes data[KEY] of ConfigMap NAME to OUT (for `guardian check`).
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

// apiVersion/kind -> the kubernetes-models module that holds its model.
function modelFor(apiVersion, kind) {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    const dir = group === "" ? version : `${group}/${version}`;
    let mod;
    try {
        mod = require(`kubernetes-models/${dir}/${kind}`);
    } catch (e) {
        return null;
    }
    return { Model: mod[kind], dts: require.resolve(`kubernetes-models/${dir}/${kind}`).replace(/\.js$/, ".d.ts") };
}

// ---- the known fields, from the .d.ts declarations -------------------

const ifaceCache = new Map();

function resolveImport(fromFile, spec) {
    if (spec.startsWith(".")) return path.resolve(path.dirname(fromFile), spec + ".d.ts");
    return require.resolve(spec).replace(/\.js$/, ".d.ts");
}

// The first `export interface` of a .d.ts: {props: {name: type}} or
// null when the file declares a plain type alias (Quantity, IntOrString).
function loadInterface(file) {
    if (ifaceCache.has(file)) return ifaceCache.get(file);
    const src = fs.readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    const imports = new Map();
    for (const m of src.matchAll(/import \{ (\w+) \} from "([^"]+)";/g))
        imports.set(m[1], resolveImport(file, m[2]));
    const head = src.match(/export interface \w+(?: extends [\w, ]+)? \{\n/);
    let result = null;
    if (head) {
        const start = head.index + head[0].length;
        const end = src.indexOf("\n}", start);
        const p = new Parser(src.slice(start, end), imports);
        result = { props: p.members() };
    }
    ifaceCache.set(file, result);
    return result;
}

// Types as the declarations write them: "name"?: T; with T one of
// Array<T>, { [key: string]: T; }, IRef, a literal, a primitive, A | B.
class Parser {
    constructor(text, imports) {
        this.s = text;
        this.i = 0;
        this.imports = imports;
    }
    ws() {
        while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
    }
    eat(tok) {
        this.ws();
        if (!this.s.startsWith(tok, this.i)) throw new Error(`expected ${tok} at ${this.s.slice(this.i, this.i + 40)}`);
        this.i += tok.length;
    }
    members() {
        const props = {};
        for (;;) {
            this.ws();
            if (this.i >= this.s.length || this.s[this.i] === "}") return props;
            if (this.s[this.i] === "[") { // index signature: a map
                this.eat("[");
                this.eat("key: string]:");
                props["[key]"] = this.type();
            } else {
                const m = /^"([^"]+)"\??:/.exec(this.s.slice(this.i));
                if (!m) throw new Error(`member at ${this.s.slice(this.i, this.i + 40)}`);
                this.i += m[0].length;
                props[m[1]] = this.type();
            }
            this.eat(";");
        }
    }
    type() {
        const alts = [this.single()];
        for (;;) {
            this.ws();
            if (this.s[this.i] !== "|") break;
            this.i++;
            alts.push(this.single());
        }
        return alts.length === 1 ? alts[0] : { kind: "union", alts };
    }
    single() {
        this.ws();
        const rest = this.s.slice(this.i);
        if (rest.startsWith("Array<")) {
            this.i += 6;
            const of = this.type();
            this.eat(">");
            return { kind: "array", of };
        }
        if (rest.startsWith("{")) {
            this.i++;
            const props = this.members();
            this.eat("}");
            return props["[key]"] ? { kind: "map", of: props["[key]"] } : { kind: "object", props };
        }
        const m = /^("[^"]*"|[\w.]+(?:\["\w+"\])?)/.exec(rest);
        if (!m) throw new Error(`type at ${rest.slice(0, 40)}`);
        this.i += m[0].length;
        if (this.imports.has(m[0])) return { kind: "ref", file: this.imports.get(m[0]) };
        return { kind: "leaf" };
    }
}

// Unknown fields of value against type, as "path: unknown field".
function strictErrors(value, type, at, out) {
    if (value === null || typeof value !== "object" || !type) return;
    switch (type.kind) {
    case "array":
        if (Array.isArray(value)) value.forEach((v, i) => strictErrors(v, type.of, `${at}[${i}]`, out));
        return;
    case "map":
        if (!Array.isArray(value)) for (const [k, v] of Object.entries(value)) strictErrors(v, type.of, `${at}.${k}`, out);
        return;
    case "union":
        return strictErrors(value, type.alts.find((a) => a.kind !== "leaf"), at, out);
    case "ref": {
        const iface = loadInterface(type.file);
        if (iface) strictErrors(value, { kind: "object", props: iface.props }, at, out);
        return;
    }
    case "object":
        if (Array.isArray(value)) return;
        for (const [k, v] of Object.entries(value)) {
            if (!(k in type.props)) out.push(`${at}.${k}: unknown field`);
            else strictErrors(v, type.props[k], `${at}.${k}`, out);
        }
        return;
    default:
        return;
    }
}

function check(doc) {
    const errors = [];
    const found = doc.apiVersion && doc.kind ? modelFor(doc.apiVersion, doc.kind) : null;
    if (!found) return [`no schema for apiVersion ${doc.apiVersion} kind ${doc.kind}`];
    try {
        new found.Model(doc).validate();
    } catch (e) {
        errors.push(e.message);
    }
    strictErrors(doc, { kind: "ref", file: found.dts }, "", errors);
    return errors;
}

function main(argv) {
    const file = argv[0];
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
    let bad = 0;
    const objects = [];
    for (const d of docs) {
        if (d.errors.length) {
            console.log(`invalid ${file}: YAML: ${d.errors.map((e) => e.message).join("; ")}`);
            bad++;
            continue;
        }
        const obj = d.toJS();
        if (obj === null) continue;
        objects.push(obj);
        const name = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
        const errors = check(obj);
        if (errors.length) {
            bad++;
            console.log(`invalid ${name}: ${errors.join("; ")}`);
        } else {
            console.log(`ok ${name}`);
        }
    }
    const x = argv.indexOf("--extract-configmap");
    if (x >= 0) {
        const [name, key, out] = argv.slice(x + 1, x + 4);
        const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata && o.metadata.name === name);
        if (!cm || !cm.data || typeof cm.data[key] !== "string") {
            console.log(`invalid: no ConfigMap ${name} with data.${key}`);
            return 1;
        }
        fs.writeFileSync(out, cm.data[key]);
    }
    if (objects.length === 0) {
        console.log(`invalid ${file}: no objects`);
        bad++;
    }
    return bad ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
