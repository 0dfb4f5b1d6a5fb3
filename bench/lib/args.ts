// The command-line options of the bench scripts, one reader for all of them: `--name value`, `--name=value` and bare
// `--flag`s, read where each script (or each part of run.ts: the scale, limits and cluster rows) needs them. A bad
// value stops the run before anything starts, with a message naming the option and what it got
// ("--repeat must be a whole number >= 1; got 'x'"). Options nobody reads are ignored unless the script asks
// rejectUnknown() (the stand-alone scripts, whose every option is read at start-up).

/** A bad command line: the message is for the person who typed it (no stack trace). */
export class UsageError extends Error {}

export interface NumberRule {
  /** The smallest value allowed (default: any finite number). */
  min?: number;
  /** The value must be > 0 (counts, sizes, rates). */
  positive?: boolean;
  /** The value must be a whole number. */
  integer?: boolean;
}

export class Args {
  private readonly asked = new Map<string, 'flag' | 'value'>();

  constructor(readonly argv: readonly string[] = process.argv.slice(2)) {}

  /** True when `--name` is given. */
  flag(name: string): boolean {
    this.asked.set(name, 'flag');
    return this.argv.includes(name);
  }

  /** The value of `--name v` or `--name=v`; `dflt` (or undefined) when the option is absent. */
  str(name: string): string | undefined;
  str(name: string, dflt: string): string;
  str(name: string, dflt?: string): string | undefined {
    this.asked.set(name, 'value');
    for (let i = 0; i < this.argv.length; i++) {
      const a = this.argv[i] as string;
      if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
      if (a !== name) continue;
      const v = this.argv[i + 1];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    }
    return dflt;
  }

  /** A comma-separated list (`--only P1,C1`); undefined when absent. */
  list(name: string): string[] | undefined {
    return this.str(name)?.split(',');
  }

  /** A number option, `dflt` when absent; throws on anything that is not a number within `rule`. */
  num(name: string, dflt: number, rule: NumberRule = {}): number {
    const s = this.str(name);
    if (s === undefined) return dflt;
    const n = s.trim() === '' ? Number.NaN : Number(s);
    const what = rule.integer ? 'a whole number' : 'a number';
    const bound = rule.positive ? ' > 0' : rule.min !== undefined ? ` >= ${rule.min}` : '';
    const ok =
      Number.isFinite(n) &&
      (!rule.integer || Number.isInteger(n)) &&
      (!rule.positive || n > 0) &&
      (rule.min === undefined || n >= rule.min);
    if (!ok) throw new UsageError(`${name} must be ${what}${bound}; got '${s}'`);
    return n;
  }

  /** `--help` or `-h`: writes `usage` to stdout and returns true (the caller exits). */
  help(usage: string): boolean {
    if (!this.flag('--help') && !this.flag('-h')) return false;
    process.stdout.write(usage.endsWith('\n') ? usage : `${usage}\n`);
    return true;
  }

  /**
   * For a stand-alone script: `--help` writes `usage` and exits; otherwise reads every option with `read`, refuses
   * any other (rejectUnknown) and returns what `read` returned. A bad command line writes its message and exits 2.
   */
  parse<T>(usage: string, read: (args: Args) => T): T {
    if (this.help(usage)) process.exit(0);
    try {
      const v = read(this);
      this.rejectUnknown();
      return v;
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
  }

  /** Throws on an option that no flag()/str()/num() call asked for, or on a stray word. */
  rejectUnknown(): void {
    for (let i = 0; i < this.argv.length; i++) {
      const a = this.argv[i] as string;
      const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
      const kind = this.asked.get(name);
      if (kind === undefined) throw new UsageError(`unknown option '${a}'`);
      if (kind === 'flag' && name !== a) throw new UsageError(`${name} takes no value; got '${a}'`);
      if (kind === 'value' && name === a) i++; // `--name v`: v is its value
    }
  }
}
