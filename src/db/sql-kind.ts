/**
 * Whether a statement can safely run on a read-only replica. Conservative: only plain SELECT / SHOW /
 * EXPLAIN (without ANALYZE) / VALUES / TABLE without a locking clause count as reads. Anything else, including
 * WITH (which may hold a data-modifying CTE), goes to the primary. A SELECT that calls a writing function
 * is the caller's to route with `{ primary: true }`.
 */
export function isReadOnlySql(text: string): boolean {
  const body = stripLeadingComments(text).toLowerCase();
  const verb = /^[a-z]+/.exec(body)?.[0];
  if (verb === 'show' || verb === 'values' || verb === 'table') return true;
  if (verb === 'explain') return !/\banaly[sz]e\b/.test(body); // EXPLAIN ANALYZE runs the statement
  if (verb !== 'select') return false;
  // Locking clauses need the primary; SELECT INTO creates a table; sequences and advisory locks write.
  return !/\bfor\s+(update|share|no\s+key\s+update|key\s+share)\b|\binto\b|\bnextval\s*\(|\bsetval\s*\(|\bpg_advisory/.test(body);
}

function stripLeadingComments(text: string): string {
  let rest = text.trimStart();
  for (;;) {
    if (rest.startsWith('--')) rest = rest.slice(rest.indexOf('\n') === -1 ? rest.length : rest.indexOf('\n') + 1).trimStart();
    else if (rest.startsWith('/*')) rest = rest.slice(rest.indexOf('*/') === -1 ? rest.length : rest.indexOf('*/') + 2).trimStart();
    else return rest;
  }
}
