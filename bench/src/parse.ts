// Reads what benchmark programs print: "RESULT <metric> <value> <unit>" for a measurement,
// "FAIL <metric> <reason...>" when an operation failed. Other lines are ignored.

export interface Measurement {
  metric: string;
  value: number;
  unit: string;
}

export interface Failure {
  metric: string;
  reason: string;
}

export interface Parsed {
  results: Measurement[];
  failures: Failure[];
}

const METRIC = /^[A-Za-z0-9_./-]+$/;

export function parseResultLines(text: string): Parsed {
  const out: Parsed = { results: [], failures: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const words = line.split(/\s+/);
    if (words[0] === 'RESULT' && words.length === 4 && METRIC.test(words[1])) {
      const value = Number(words[2]);
      if (words[2] !== '' && Number.isFinite(value)) out.results.push({ metric: words[1], value, unit: words[3] });
    } else if (words[0] === 'FAIL' && words.length >= 3 && METRIC.test(words[1])) {
      out.failures.push({ metric: words[1], reason: line.slice(line.indexOf(words[1]) + words[1].length).trim() });
    }
  }
  return out;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** The address a server announced with "READY <IPv4 address>" (bench/apps/serve.sh), if it has. */
export function readyAddress(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const words = raw.trim().split(/\s+/);
    if (words[0] === 'READY' && words.length === 2 && IPV4.test(words[1])) return words[1];
  }
  return undefined;
}
