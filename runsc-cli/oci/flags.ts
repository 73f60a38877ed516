// runc-style flags: `--flag value`, `--flag=value`, `-f value`; booleans take no value.
// Parsing stops at `--` or, when stopAfter positionals were seen, at the next positional
// (exec's command line may carry flags of its own).

export class UsageError extends Error {}

export type FlagKind = 'bool' | 'string' | 'multi';

export interface FlagSpec {
  [name: string]: FlagKind;
}

export interface ParsedFlags {
  bools: Set<string>;
  strings: Map<string, string>;
  multi: Map<string, string[]>;
  positionals: string[];
  /** Everything after `--` or after the stop point, untouched. */
  rest: string[];
}

/** Names are given without dashes; aliases map short names ("d") to long ones ("detach"). */
export function parseFlags(args: string[], spec: FlagSpec, aliases: Record<string, string> = {}, stopAfter = Infinity): ParsedFlags {
  const p: ParsedFlags = { bools: new Set(), strings: new Map(), multi: new Map(), positionals: [], rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      p.rest = args.slice(i + 1);
      return p;
    }
    if (!a.startsWith('-') || a === '-') {
      if (p.positionals.length >= stopAfter) {
        p.rest = args.slice(i);
        return p;
      }
      p.positionals.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    let name = eq >= 0 ? body.slice(0, eq) : body;
    name = aliases[name] ?? name;
    const kind = spec[name];
    if (kind === undefined) throw new UsageError(`flag provided but not defined: ${a}`);
    if (kind === 'bool') {
      const v = eq >= 0 ? body.slice(eq + 1) : 'true';
      if (v !== 'true' && v !== 'false') throw new UsageError(`invalid boolean value "${v}" for ${a}`);
      if (v === 'true') p.bools.add(name);
      else p.bools.delete(name);
      continue;
    }
    let v: string;
    if (eq >= 0) v = body.slice(eq + 1);
    else {
      const next = args[++i];
      if (next === undefined) throw new UsageError(`flag needs an argument: ${a}`);
      v = next;
    }
    if (kind === 'string') p.strings.set(name, v);
    else p.multi.set(name, [...(p.multi.get(name) ?? []), v]);
  }
  return p;
}
