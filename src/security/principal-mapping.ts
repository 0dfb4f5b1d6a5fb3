// ssl.principal.mapping.rules: Kafka's SslPrincipalMapper. A list of `RULE:pattern/replacement/[L|U]` and
// `DEFAULT`, separated by commas or new lines; the first rule whose pattern matches the whole distinguished
// name gives the principal name (`$1` refers to groups; L/U lower- or upper-cases it); DEFAULT keeps the DN.
// Patterns are Java regular expressions, read as JavaScript ones (the common subset: groups, classes,
// quantifiers, anchors).

import { ConfigError } from '../config/config-error.js';

export type PrincipalMappingRule =
  | { kind: 'default' }
  | { kind: 'rule'; pattern: RegExp; replacement: string; caseChange: '' | 'L' | 'U' };

const RULE = /^\s*(?:(DEFAULT)|RULE:((?:\\.|[^\\/])*)\/((?:\\.|[^\\/])*)\/([LU]?))\s*(?:[,\n]\s*|$)/;

export function parsePrincipalMappingRules(key: string, text: string): PrincipalMappingRule[] {
  const rules: PrincipalMappingRule[] = [];
  let rest = text.trim();
  while (rest !== '') {
    const m = RULE.exec(rest);
    if (m === null || m[0] === '') throw new ConfigError(key, `invalid rule at "${rest.slice(0, 40)}"`);
    if (m[1] !== undefined) rules.push({ kind: 'default' });
    else {
      let pattern: RegExp;
      try {
        pattern = new RegExp(`^(?:${m[2]})$`);
      } catch (err) {
        throw new ConfigError(key, `invalid pattern ${m[2]}: ${(err as Error).message}`);
      }
      rules.push({
        kind: 'rule',
        pattern,
        replacement: m[3] as string,
        caseChange: (m[4] ?? '') as '' | 'L' | 'U',
      });
    }
    rest = rest.slice(m[0].length);
  }
  return rules.length === 0 ? [{ kind: 'default' }] : rules;
}

/** The principal name of a distinguished name under the rules (the DN itself when none matches). */
export function mapPrincipal(rules: readonly PrincipalMappingRule[], dn: string): string {
  for (const r of rules) {
    if (r.kind === 'default') return dn;
    if (!r.pattern.test(dn)) continue;
    const name = dn.replace(r.pattern, r.replacement);
    return r.caseChange === 'L' ? name.toLowerCase() : r.caseChange === 'U' ? name.toUpperCase() : name;
  }
  return dn;
}
