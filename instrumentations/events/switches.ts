/**
 * Which events are switched on. Rules come from the configuration (OTELKIT_EVENTS or
 * `events.switches`, parsed in src/config/parsers.ts) and from the runtime calls
 * (`events.enable(...)`, `events.disable(...)`), the runtime ones after the others;
 * the last rule that matches decides. `all` and `none` match every event; `x` and `-x`
 * match an event that is `x`, starts with `x.`, or belongs to the declared module `x`.
 *
 * Evaluated when an event is first seen and again whenever a rule changes, never per
 * track(): a tracked event only reads its entry's `enabled` flag.
 */

type Verdict = boolean | undefined;

export class Switches {
  private configured: readonly string[] = ['all'];
  private runtime: string[] = [];
  /** Module name → its exact members and its prefixes (`p.*` kept as `p.`). */
  private modules: { name: string; exact: Set<string>; prefixes: string[] }[] = [];

  configure(rules: readonly string[], modules: Record<string, readonly string[]>): void {
    this.configured = rules.length ? rules : ['all'];
    this.modules = Object.entries(modules).map(([name, members]) => ({
      name,
      exact: new Set(members.filter((m) => !m.endsWith('.*'))),
      prefixes: members.filter((m) => m.endsWith('.*')).map((m) => m.slice(0, -1)),
    }));
  }

  /** Whether `name` (an event, a module or a prefix) is on; no name: the global switch. */
  enabled(name?: string): boolean {
    const ids = name === undefined ? undefined : this.identifiers(name);
    for (const rules of [this.runtime, this.configured]) {
      for (let i = rules.length - 1; i >= 0; i--) {
        const verdict = decide(rules[i]!, ids);
        if (verdict !== undefined) return verdict;
      }
    }
    return true;
  }

  /** A runtime switch: `name` (or every event, without one) on or off, overriding earlier rules for it. */
  set(name: string | undefined, on: boolean): void {
    if (name === undefined) {
      this.runtime = [on ? 'all' : 'none'];
      return;
    }
    this.runtime = this.runtime.filter((r) => r !== name && r !== `-${name}`);
    this.runtime.push(on ? name : `-${name}`);
  }

  /** Everything a rule may name to mean `name`: itself, its dotted prefixes, the modules it belongs to. */
  private identifiers(name: string): Set<string> {
    const ids = new Set([name]);
    for (let dot = name.indexOf('.'); dot > 0; dot = name.indexOf('.', dot + 1)) ids.add(name.slice(0, dot));
    for (const m of this.modules) {
      if (m.exact.has(name) || m.prefixes.some((p) => name.startsWith(p) || `${name}.` === p)) ids.add(m.name);
    }
    return ids;
  }
}

function decide(rule: string, ids: Set<string> | undefined): Verdict {
  if (rule === 'all') return true;
  if (rule === 'none') return false;
  const off = rule.startsWith('-');
  return ids?.has(off ? rule.slice(1) : rule) ? !off : undefined;
}

/** A name as the runtime switches take it: `trading` or `trading.*`; undefined when unusable. */
export function switchName(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  const trimmed = name.trim().replace(/\.\*$/, '');
  return trimmed === '' ? undefined : trimmed;
}
