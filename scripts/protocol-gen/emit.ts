/**
 * Emits one TypeScript module per message: interfaces (decoded and Input), and straight-line
 * decode/encode functions per struct with version checks resolved to numeric comparisons.
 */
import {
  type Field,
  type FieldType,
  intersect,
  isEmpty,
  type Message,
  NO_VERSIONS,
  type PrimitiveName,
  type Range,
  type Struct,
} from './schema.js';

/** A condition over `version`: always true, never true, or a TS expression. */
type Cond = boolean | string;

const FIXED_SIZE: Partial<Record<PrimitiveName, number>> = {
  bool: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  float64: 8,
  uuid: 16,
};
const PLACEHOLDER = '\u0000value\u0000';
const ZERO_UUID = `'${'0'.repeat(32)}'`;
const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally ' +
    'for function if import in instanceof new null return super switch this throw true try typeof var void ' +
    'while with yield let static implements interface package private protected public await r w m version'
  ).split(' '),
);

/** Where the range r holds, relative to the versions ctx that are possible at that point. */
function cond(r: Range, ctx: Range): Cond {
  const lo = Math.max(r.lo, ctx.lo);
  const hi = Math.min(r.hi, ctx.hi);
  if (lo > hi) return false;
  const parts: string[] = [];
  if (lo > ctx.lo) parts.push(`version >= ${lo}`);
  if (hi < ctx.hi) parts.push(`version <= ${hi}`);
  return parts.length === 0 ? true : parts.join(' && ');
}

function choose(c: Cond, ifTrue: string, ifFalse: string): string {
  if (c === true) return ifTrue;
  if (c === false) return ifFalse;
  return `(${c} ? ${ifTrue} : ${ifFalse})`;
}

function lit(c: Cond): string {
  return typeof c === 'boolean' ? String(c) : c;
}

function wrapIf(c: Cond, body: string[]): string[] {
  if (c === false) return [];
  if (c === true) return body;
  // A body that is one block already needs no second pair of braces.
  const inner = body[0] === '{' && body.at(-1) === '}' && body.slice(1, -1).every((l) => l.startsWith(' '));
  return [`if (${c}) {`, ...indent(inner ? body.slice(1, -1).map((l) => l.slice(2)) : body), '}'];
}

function indent(lines: string[], by = '  '): string[] {
  return lines.map((l) => (l === '' ? l : by + l));
}

function numberLiteral(d: unknown, what: string): string {
  const s = String(d).trim();
  const n = /^-?0x/i.test(s)
    ? (s.startsWith('-') ? -1 : 1) * Number.parseInt(s.replace(/^-?0x/i, ''), 16)
    : Number(s);
  if (!Number.isFinite(n)) throw new Error(`bad numeric default '${s}' for ${what}`);
  return String(n);
}

export class MessageEmitter {
  private readonly structs = new Map<string, Struct>();
  private readonly imports = new Set<string>();
  private readonly neededDefaults = new Set<string>();
  private readonly neededIsDefaults = new Set<string>();

  constructor(private readonly msg: Message) {
    for (const s of msg.structs) this.structs.set(s.name, s);
  }

  private struct(name: string): Struct {
    const s = this.structs.get(name);
    if (!s) throw new Error(`${this.msg.name}: unknown struct ${name}`);
    return s;
  }

  private tsType(t: FieldType, input: boolean): string {
    if (t.kind === 'array') return `${this.tsType(t.element, input)}[]`;
    if (t.kind === 'struct') return this.struct(t.struct).tsName + (input ? 'Input' : '');
    switch (t.name) {
      case 'bool':
        return 'boolean';
      case 'string':
      case 'uuid':
        return 'string';
      case 'bytes':
        return 'Buffer';
      case 'records':
        return 'Buffer | null';
      default:
        return 'number';
    }
  }

  private fieldType(f: Field, input: boolean): string {
    const base = this.tsType(f.type, input);
    const nullable =
      !isEmpty(f.nullableVersions) && !(f.type.kind === 'primitive' && f.type.name === 'records');
    return nullable ? `${base} | null` : base;
  }

  private isNullDefault(f: Field): boolean {
    return (
      f.default === null || f.default === 'null' || (f.type.kind === 'primitive' && f.type.name === 'records')
    );
  }

  /** The value a field takes when absent: for decoded objects, or (input) what encoders substitute. */
  private defaultExpr(f: Field, input: boolean): string {
    const what = `${this.msg.name}.${f.name}`;
    if (this.isNullDefault(f)) return 'null';
    const t = f.type;
    if (t.kind === 'array') return '[]';
    if (t.kind === 'struct') {
      if (input) return '{}';
      const s = this.struct(t.struct);
      this.neededDefaults.add(s.name);
      return `default${s.tsName}()`;
    }
    switch (t.name) {
      case 'bool':
        return f.default === true || f.default === 'true' ? 'true' : 'false';
      case 'string':
        return JSON.stringify(f.default === undefined ? '' : String(f.default)).replace(/^"(.*)"$/, "'$1'");
      case 'uuid':
        return ZERO_UUID;
      case 'bytes':
        return 'Buffer.alloc(0)';
      default:
        return f.default === undefined ? '0' : numberLiteral(f.default, what);
    }
  }

  private readExpr(t: FieldType, nullC: Cond, compactC: Cond): string {
    if (t.kind === 'array') throw new Error(`${this.msg.name}: nested arrays are not supported`);
    if (t.kind === 'struct') {
      const call = `decode${this.struct(t.struct).tsName}(r, version)`;
      if (nullC === false) return call;
      return `(${nullC === true ? '' : `${nullC} && `}r.int8() < 0 ? null : ${call})`;
    }
    switch (t.name) {
      case 'string':
      case 'bytes': {
        const T = t.name === 'string' ? 'String' : 'Bytes';
        return choose(
          nullC,
          choose(compactC, `r.compactNullable${T}()`, `r.nullable${T}()`),
          choose(compactC, `r.compact${T}()`, `r.${t.name}()`),
        );
      }
      case 'records':
        return choose(compactC, 'r.compactNullableBytes()', 'r.nullableBytes()');
      default:
        return `r.${t.name}()`;
    }
  }

  private readArray(target: string, f: Field, t: FieldType, nullC: Cond, compactC: Cond): string[] {
    if (t.kind !== 'array') throw new Error('not an array');
    let nullCase = `throw new ProtocolDecodeError('non-nullable field ${f.name} was serialized as null');`;
    if (nullC === true) nullCase = `${target} = null;`;
    else if (nullC !== false) nullCase = `if (${nullC}) ${target} = null;\n  else ${nullCase}`;
    if (nullC !== true) this.imports.add('ProtocolDecodeError');
    return [
      '{',
      `  const _n = r.arrayLength(${lit(compactC)});`,
      '  if (_n >= 0) {',
      `    const _a: ${this.tsType(t.element, false)}[] = [];`,
      `    for (let _i = 0; _i < _n; _i++) _a.push(${this.readExpr(t.element, false, compactC)});`,
      `    ${target} = _a;`,
      `  } else ${nullCase}`,
      '}',
    ];
  }

  /** Splits a field's versions within ctx into untagged and tagged parts (tagged versions are a suffix). */
  private split(f: Field, ctx: Range): { present: Range; untagged: Range; tagged: Range } {
    const present = intersect(f.versions, ctx);
    const tagged =
      f.tag === undefined
        ? NO_VERSIONS
        : intersect(intersect(f.taggedVersions, present), this.msg.flexibleVersions);
    if (!isEmpty(tagged) && tagged.hi < present.hi)
      throw new Error(`${this.msg.name}.${f.name}: tagged versions must be open-ended`);
    const untagged = isEmpty(tagged) ? present : { lo: present.lo, hi: Math.min(present.hi, tagged.lo - 1) };
    return { present, untagged, tagged };
  }

  private local(f: Field): string {
    return RESERVED.has(f.prop) || f.prop.startsWith('_') ? `${f.prop}_` : f.prop;
  }

  private decodeFn(s: Struct): string[] {
    const ctx = s.versions;
    const body: string[] = [];
    const props: string[] = [];
    const tagged: { f: Field; range: Range }[] = [];
    for (const f of s.fields) {
      const { present, untagged, tagged: tg } = this.split(f, ctx);
      if (isEmpty(present)) {
        props.push(`${f.prop}: ${this.defaultExpr(f, false)}`);
        continue;
      }
      const v = this.local(f);
      props.push(v === f.prop ? v : `${f.prop}: ${v}`);
      const regCond = cond(untagged, ctx);
      const nullC = cond(f.nullableVersions, untagged);
      const compactC = cond(f.flexibleVersions, untagged);
      const T = this.fieldType(f, false);
      if (!isEmpty(tg)) tagged.push({ f, range: tg });
      if (f.type.kind === 'array') {
        if (regCond === true) body.push(`let ${v}: ${T};`);
        else body.push(`let ${v}: ${T} = ${this.defaultExpr(f, false)};`);
        body.push(...wrapIf(regCond, this.readArray(v, f, f.type, nullC, compactC)));
      } else if (isEmpty(tg)) {
        const read = this.readExpr(f.type, nullC, compactC);
        body.push(
          `const ${v} = ${regCond === true ? read : `${regCond} ? ${read} : ${this.defaultExpr(f, false)}`};`,
        );
      } else {
        body.push(`let ${v}: ${T} = ${this.defaultExpr(f, false)};`);
        if (regCond !== false) body.push(`if (${regCond}) ${v} = ${this.readExpr(f.type, nullC, compactC)};`);
      }
    }
    const flexC = cond(this.msg.flexibleVersions, ctx);
    if (flexC !== false) {
      let section: string[];
      if (tagged.length === 0) {
        section = ['r.skipTaggedFields();'];
      } else {
        const cases: string[] = [];
        for (const { f, range } of tagged.sort((a, b) => (a.f.tag ?? 0) - (b.f.tag ?? 0))) {
          const v = this.local(f);
          const nullC = cond(f.nullableVersions, range);
          const read =
            f.type.kind === 'array'
              ? this.readArray(v, f, f.type, nullC, true)
              : [`${v} = ${this.readExpr(f.type, nullC, true)};`];
          const tagCond = cond(range, intersect(ctx, this.msg.flexibleVersions));
          const decode = [
            'const _end = r.taggedFieldEnd(_size);',
            ...read,
            `r.checkTaggedFieldEnd(${f.tag}, _end);`,
          ];
          cases.push(`case ${f.tag}: {`);
          if (tagCond === true) cases.push(...indent(decode));
          else cases.push(`  if (${tagCond}) {`, ...indent(decode, '    '), '  } else r.skip(_size);');
          cases.push('  break;', '}');
        }
        section = [
          'const _count = r.uvarint();',
          'for (let _t = 0; _t < _count; _t++) {',
          '  const _tag = r.uvarint();',
          '  const _size = r.uvarint();',
          '  switch (_tag) {',
          ...indent(cases, '    '),
          '    default:',
          '      r.skip(_size);',
          '  }',
          '}',
        ];
      }
      body.push(...wrapIf(flexC, section));
    }
    body.push(props.length ? `return { ${props.join(', ')} };` : 'return {};');
    return this.fn(`decode${s.tsName}`, ['r: Reader', 'version: number'], s.tsName, body);
  }

  /** Input value of a field, with the encoder's default substituted for undefined. */
  private inputValue(f: Field, obj = 'm'): string {
    const d = this.defaultExpr(f, true);
    if (d === 'null' || this.fieldType(f, true).endsWith('| null'))
      return `${obj}.${f.prop} === undefined ? ${d} : ${obj}.${f.prop}`;
    return `${obj}.${f.prop} ?? ${d}`;
  }

  private writeExpr(wv: string, t: FieldType, v: string, nullC: Cond, compactC: Cond, f: Field): string {
    const e = this.writeExpr1(wv, t, v, nullC, compactC, f);
    if (e.includes('nullField(')) this.imports.add('nullField');
    return e;
  }

  private writeExpr1(wv: string, t: FieldType, v: string, nullC: Cond, compactC: Cond, f: Field): string {
    if (t.kind === 'array') throw new Error('nested arrays are not supported');
    const nonNull =
      nullC === true || !this.fieldType(f, true).endsWith('| null') || v === '_e'
        ? v
        : `(${v} ?? nullField('${f.name}'))`;
    if (t.kind === 'struct') {
      const call = (x: string) => `encode${this.struct(t.struct).tsName}(${wv}, version, ${x})`;
      if (nullC === false) return call(nonNull);
      const n = `(${v} === null ? ${wv}.int8(-1) : (${wv}.int8(1), ${call(v)}))`;
      return nullC === true ? n : `(${nullC} ? ${n} : ${call(nonNull)})`;
    }
    switch (t.name) {
      case 'string':
      case 'bytes': {
        const T = t.name === 'string' ? 'String' : 'Bytes';
        return choose(
          nullC,
          choose(compactC, `${wv}.compactNullable${T}(${v})`, `${wv}.nullable${T}(${v})`),
          choose(compactC, `${wv}.compact${T}(${nonNull})`, `${wv}.${t.name}(${nonNull})`),
        );
      }
      case 'records':
        return `${wv}.records(${v}, ${lit(compactC)})`;
      default:
        return `${wv}.${t.name}(${v})`;
    }
  }

  private writeField(wv: string, f: Field, v: string, nullC: Cond, compactC: Cond): string[] {
    const t = f.type;
    if (t.kind !== 'array') {
      if (t.kind === 'struct' && nullC !== false)
        return [`{`, `  const _v = ${v};`, `  ${this.writeExpr(wv, t, '_v', nullC, compactC, f)};`, '}'];
      return [`${this.writeExpr(wv, t, v, nullC, compactC, f)};`];
    }
    const loop = [
      `${wv}.arrayLength(_a.length, ${lit(compactC)});`,
      `for (const _e of _a) ${this.writeExpr(wv, t.element, '_e', false, compactC, f)};`,
    ];
    if (!this.fieldType(f, true).endsWith('| null')) return ['{', `  const _a = ${v};`, ...indent(loop), '}'];
    let nullCase = `${wv}.arrayLength(-1, ${lit(compactC)});`;
    if (nullC === false) nullCase = `nullField('${f.name}');`;
    else if (nullC !== true) nullCase = `${nullC} ? ${nullCase.slice(0, -1)} : nullField('${f.name}');`;
    if (nullC !== true) this.imports.add('nullField');
    return [
      '{',
      `  const _a = ${v};`,
      `  if (_a === null) ${nullCase}`,
      '  else {',
      ...indent(loop, '    '),
      '  }',
      '}',
    ];
  }

  /** A TS expression true when v differs from the field's default (tagged fields are written only then). */
  private nonDefault(f: Field, v: string): string {
    const t = f.type;
    const nullDefault = this.isNullDefault(f);
    if (nullDefault) return `${v} !== null`;
    const orNull = this.fieldType(f, true).endsWith('| null') ? `${v} === null || ` : '';
    if (t.kind === 'array') return `(${orNull}${v}.length > 0)`;
    if (t.kind === 'struct') {
      const s = this.struct(t.struct);
      this.neededIsDefaults.add(s.name);
      return `(${orNull}!isDefault${s.tsName}(${v}))`;
    }
    if (t.name === 'bytes') return `(${orNull}${v}.length > 0)`;
    return `${v} !== ${this.defaultExpr(f, true)}`;
  }

  private encodeFn(s: Struct): string[] {
    const ctx = s.versions;
    const body: string[] = [];
    const tagged: { f: Field; range: Range }[] = [];
    for (const f of s.fields) {
      const { untagged, tagged: tg } = this.split(f, ctx);
      if (!isEmpty(tg)) tagged.push({ f, range: tg });
      const regCond = cond(untagged, ctx);
      if (regCond === false) continue;
      const nullC = cond(f.nullableVersions, untagged);
      const compactC = cond(f.flexibleVersions, untagged);
      // Write with a placeholder, then inline the value if it is simple and used once, else bind it.
      const val = this.inputValue(f);
      const lines = this.writeField('w', f, PLACEHOLDER, nullC, compactC);
      const text = lines.join('\n');
      const uses = text.split(PLACEHOLDER).length - 1;
      const local = this.local(f);
      const inline = uses === 1 && !(val.includes(' ? ') && text.includes(`${PLACEHOLDER} ??`));
      const out = lines.map((l) => l.split(PLACEHOLDER).join(inline ? val : local));
      body.push(...wrapIf(regCond, inline ? out : ['{', `  const ${local} = ${val};`, ...indent(out), '}']));
    }
    const flexC = cond(this.msg.flexibleVersions, ctx);
    if (flexC !== false) {
      const section: string[] = [];
      if (tagged.length === 0) section.push('w.emptyTaggedFields();');
      else {
        const has: string[] = [];
        const writes: string[] = [];
        for (const { f, range } of tagged.sort((a, b) => (a.f.tag ?? 0) - (b.f.tag ?? 0))) {
          const v = `_t${f.tag}`;
          const tagCond = cond(range, intersect(ctx, this.msg.flexibleVersions));
          section.push(`const ${v} = ${this.inputValue(f)};`);
          section.push(
            `const _has${f.tag} = ${tagCond === true ? '' : `${tagCond} && `}${this.nonDefault(f, v)};`,
          );
          has.push(`(_has${f.tag} ? 1 : 0)`);
          const nullC = cond(f.nullableVersions, range);
          const fixed = f.type.kind === 'primitive' ? FIXED_SIZE[f.type.name] : undefined;
          let w: string[];
          if (fixed !== undefined) w = [`w.uvarint(${fixed});`, ...this.writeField('w', f, v, nullC, true)];
          else {
            this.imports.add('Writer');
            w = [
              'const _s = new Writer(64);',
              ...this.writeField('_s', f, v, nullC, true),
              'w.uvarint(_s.length);',
              'w.raw(_s.toBuffer());',
            ];
          }
          writes.push(`if (_has${f.tag}) {`, `  w.uvarint(${f.tag});`, ...indent(w), '}');
        }
        section.push(`w.uvarint(${has.join(' + ')});`, ...writes);
      }
      body.push(...wrapIf(flexC, section));
    }
    return this.fn(
      `encode${s.tsName}`,
      ['w: Writer', 'version: number', `m: ${s.tsName}Input`],
      'void',
      body,
    );
  }

  private defaultFn(s: Struct): string[] {
    const props = s.fields.map((f) => `${f.prop}: ${this.defaultExpr(f, false)}`);
    return this.fn(`default${s.tsName}`, [], s.tsName, [
      props.length ? `return { ${props.join(', ')} };` : 'return {};',
    ]);
  }

  private isDefaultFn(s: Struct): string[] {
    const terms = s.fields.map(
      (f) => `(m.${f.prop} === undefined || !(${this.nonDefault(f, `m.${f.prop}`)}))`,
    );
    const body = [terms.length ? `return ${terms.join(' &&\n    ')};` : 'return true;'];
    return this.fn(`isDefault${s.tsName}`, [`m: ${s.tsName}Input`], 'boolean', body);
  }

  /** A function; parameters the body never mentions get a leading underscore (noUnusedParameters). */
  private fn(name: string, params: string[], ret: string, body: string[]): string[] {
    const text = body.join('\n');
    const ps = params.map((p) => {
      const id = p.slice(0, p.indexOf(':'));
      return new RegExp(`(?<![.\\w'])${id}\\b(?!\\s*:)`).test(text) ? p : `_${p}`;
    });
    return [
      `export function ${name}(${ps.join(', ')}): ${ret} {`,
      ...indent(body.flatMap((l) => l.split('\n'))),
      '}',
      '',
    ];
  }

  private interfaces(s: Struct, input: boolean): string[] {
    const name = s.tsName + (input ? 'Input' : '');
    const lines = [`export interface ${name} {`];
    for (const f of s.fields) {
      const facts = [`versions ${fmt(f.versions)}`];
      if (!isEmpty(f.nullableVersions)) facts.push(`nullable ${fmt(f.nullableVersions)}`);
      if (f.tag !== undefined) facts.push(`tag ${f.tag} in ${fmt(f.taggedVersions)}`);
      if (f.default !== undefined) facts.push(`default ${JSON.stringify(f.default)}`);
      if (!input) lines.push(`  /** ${facts.join(', ')} */`);
      lines.push(`  ${f.prop}${input ? '?' : ''}: ${this.fieldType(f, input)};`);
    }
    lines.push('}', '');
    return lines;
  }

  emit(): string {
    const m = this.msg;
    const all = [m.root, ...m.structs];
    const onWire = all.filter((s) => !isEmpty(s.versions));
    const code: string[] = [];
    for (const s of onWire) code.push(...this.decodeFn(s), ...this.encodeFn(s));
    // default/isDefault helpers may pull in others (nested structs): iterate to a fixed point.
    const doneD = new Set<string>();
    const doneI = new Set<string>();
    for (let changed = true; changed; ) {
      changed = false;
      for (const n of [...this.neededDefaults].sort()) {
        if (doneD.has(n)) continue;
        doneD.add(n);
        changed = true;
        code.push(...this.defaultFn(this.struct(n)));
      }
      for (const n of [...this.neededIsDefaults].sort()) {
        if (doneI.has(n)) continue;
        doneI.add(n);
        changed = true;
        code.push(...this.isDefaultFn(this.struct(n)));
      }
    }
    const facts = [m.kind];
    if (m.apiKey !== undefined) facts.push(`api key ${m.apiKey}`);
    facts.push(`versions ${fmt(m.validVersions)}`, `flexible ${fmt(m.flexibleVersions)}`);
    const head = [
      '// generated by scripts/gen-protocol.ts; do not edit',
      `// ${m.name}: ${facts.join(', ')}`,
      '',
    ];
    // Asked for by every array read, but a tagged nullable array's code never throws it: import it only when used.
    if (this.imports.has('ProtocolDecodeError') && code.some((l) => l.includes('new ProtocolDecodeError(')))
      head.push("import { ProtocolDecodeError } from '../errors.js';");
    head.push("import type { Reader } from '../reader.js';");
    const values = ['nullField', 'Writer'].filter((n) => this.imports.has(n));
    if (!values.includes('Writer')) head.push("import type { Writer } from '../writer.js';");
    if (values.length > 0) head.push(`import { ${values.join(', ')} } from '../writer.js';`);
    head.push('');
    const types: string[] = [];
    for (const s of all) types.push(...this.interfaces(s, false), ...this.interfaces(s, true));
    return [...head, ...types, ...code].join('\n').replace(/\n+$/, '\n');
  }
}

export function fmt(r: Range): string {
  if (isEmpty(r)) return 'none';
  if (r.hi === Number.POSITIVE_INFINITY) return `${r.lo}+`;
  return r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`;
}
