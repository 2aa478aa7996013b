/**
 * A few of TEI's Prometheus counters, enough for GET /metrics to look like TEI's and for
 * a scraper to have something to read. Names and labels follow router/src/http/server.rs.
 */
export class SimMetrics {
  private readonly counters = new Map<string, number>();

  private add(name: string, labels: string, amount = 1): void {
    const key = labels === '' ? name : `${name}{${labels}}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + amount);
  }

  requestCount(method: 'single' | 'batch'): void {
    this.add('te_request_count', `method="${method}"`);
  }

  outcome(method: 'single' | 'batch', success: boolean): void {
    if (success) this.add('te_request_success', `method="${method}"`);
  }

  failure(reason: string): void {
    this.add('te_request_failure', `err="${reason}"`);
  }

  render(): string {
    const lines: string[] = [];
    const seen = new Set<string>();
    for (const [key, value] of [...this.counters.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const name = key.split('{')[0] as string;
      if (!seen.has(name)) {
        seen.add(name);
        lines.push(`# TYPE ${name} counter`);
      }
      lines.push(`${key} ${value}`);
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }
}
