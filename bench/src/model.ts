// The shape of a benchmark run's results (bench/results/latest.json).

import type { Summary } from './stats.js';

export type RuntimeId = 'native' | 'runsc' | 'tsvisor';
export const RUNTIME_IDS: readonly RuntimeId[] = ['native', 'runsc', 'tsvisor'];

export type Group = 'micro' | 'app' | 'lifecycle' | 'network';

export type Cell =
  | { status: 'ok'; summary: Summary }
  | { status: 'failed'; reason: string }
  | { status: 'skipped'; reason: string };

/**
 * A performance target tracked (never asserted): tsvisor's cost at most `max` times the
 * reference runtime's.
 */
export interface Target {
  versus: 'native' | 'runsc';
  max: number;
}

export interface MetricResult {
  id: string;
  group: Group;
  description: string;
  unit: string;
  target?: Target;
  cells: Partial<Record<RuntimeId, Cell>>;
}

export interface RuntimeInfo {
  id: RuntimeId;
  available: boolean;
  /** How it was run, or why it was not. */
  detail: string;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** 1-minute load average when the run started and ended: how shared the machine was. */
  load: { start: number; end: number };
}

export interface BenchResults {
  date: string;
  quick: boolean;
  machine: Machine;
  runtimes: RuntimeInfo[];
  metrics: MetricResult[];
  notes: string[];
}
