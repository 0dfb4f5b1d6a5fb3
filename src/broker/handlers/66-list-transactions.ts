// ListTransactions (key 66), v0-2: the transactional ids this broker coordinates, filtered by state names
// (unknown names are echoed in unknownStateFilters), producer ids, (v1) durationFilter: only transactions
// running longer than that many ms, and (v2, KIP-1152) TransactionalIdPattern: a regular expression the whole
// id must match (null or empty: no filter). COORDINATOR_LOAD_IN_PROGRESS while any partition loads. Dead ids
// are left out.
//
// Kafka compiles the pattern with RE2 (linear time); Node's RegExp backtracks, so a pattern RE2 would refuse
// (backreferences, lookaround) or one that could backtrack exponentially (a repeated group that itself repeats,
// as `(a+)+`) is answered INVALID_REGULAR_EXPRESSION with the reason, like an invalid pattern in Kafka.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { ListTransactionsRequest } from '../../protocol/generated/list-transactions-request.js';
import type { ListTransactionsResponseInput } from '../../protocol/generated/list-transactions-response.js';
import { authorizedNames } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

/** The pattern compiled to match whole ids, or the reason it is refused. */
export function compileIdPattern(pattern: string): RegExp | string {
  if (/\\[1-9]|\\k</.test(pattern)) return 'backreferences are not supported (RE2 syntax)';
  if (/\(\?<?[=!]/.test(pattern)) return 'lookaround is not supported (RE2 syntax)';
  if (nestedQuantifier(pattern))
    return 'a repeated group that itself repeats is not served (it could take exponential time)';
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Whether a group containing a quantifier is itself quantified: `(a+)+`, `(a*b)*`, `(x{2,})+`. */
function nestedQuantifier(p: string): boolean {
  const stack: boolean[] = []; // per open group: does it contain a quantifier?
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') stack.push(false);
    else if (c === ')') {
      const inner = stack.pop() ?? false;
      const next = p[i + 1];
      const quantified = next === '*' || next === '+' || next === '{';
      if (inner && quantified) return true;
      if (stack.length > 0 && (inner || quantified)) stack[stack.length - 1] = true;
    } else if ((c === '*' || c === '+' || c === '{') && stack.length > 0) stack[stack.length - 1] = true;
  }
  return false;
}

export const listTransactions = defineHandler<ListTransactionsRequest, ListTransactionsResponseInput>({
  apiKey: ApiKey.ListTransactions,
  name: 'ListTransactions',
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, req) {
    let pattern: RegExp | null = null;
    const source = ctx.apiVersion >= 2 ? req.transactionalIdPattern : null;
    if (source !== null && source !== '') {
      const compiled = compileIdPattern(source);
      if (typeof compiled === 'string') {
        ctx.broker.clientWarnings.warn(ctx, 'list_transactions.pattern', 'invalid transactional id pattern', {
          pattern: source,
          reason: compiled,
        });
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION,
          unknownStateFilters: [],
          transactionStates: [],
        };
      }
      pattern = compiled;
    }
    const res = ctx.broker.transactions.list(
      req.stateFilters,
      req.producerIdFilters,
      ctx.apiVersion >= 1 ? req.durationFilter : -1,
    );
    if (pattern !== null && res.errorCode === ErrorCode.NONE) {
      const re = pattern;
      res.transactionStates = res.transactionStates.filter((t) => re.test(t.transactionalId));
    }
    // Only the transactional ids the principal may DESCRIBE, as Kafka filters them.
    res.transactionStates = authorizedNames(
      ctx,
      'DESCRIBE',
      'TRANSACTIONAL_ID',
      res.transactionStates,
      (t) => t.transactionalId,
    );
    return { throttleTimeMs: 0, ...res };
  },
});
