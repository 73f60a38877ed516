import { describe, expect, it } from 'vitest';
import { parseResultLines } from '../../bench/src/parse.js';
import { replaceReadmeSection, BEGIN, END } from '../../bench/src/readme.js';
import { lastLine } from '../../bench/src/runtimes.js';

describe('bench output parsing', () => {
  it('reads RESULT and FAIL lines and ignores everything else', () => {
    const p = parseResultLines(
      ['hello', 'RESULT getppid 74.6 ns', 'RESULT seq_write_tmp 2.7e3 MiB/s', 'FAIL thread_create pthread_create: Resource temporarily unavailable', '  RESULT  stat 1.5e2 ns  ', ''].join('\n'),
    );
    expect(p.results).toEqual([
      { metric: 'getppid', value: 74.6, unit: 'ns' },
      { metric: 'seq_write_tmp', value: 2700, unit: 'MiB/s' },
      { metric: 'stat', value: 150, unit: 'ns' },
    ]);
    expect(p.failures).toEqual([{ metric: 'thread_create', reason: 'pthread_create: Resource temporarily unavailable' }]);
  });

  it('rejects malformed lines instead of inventing values', () => {
    const p = parseResultLines(['RESULT getppid abc ns', 'RESULT getppid 1 ns extra', 'RESULT bad;name 1 ns', 'RESULT x', 'FAIL y', 'RESULT nan NaN ns'].join('\n'));
    expect(p.results).toEqual([]);
    expect(p.failures).toEqual([]);
  });
});

describe('failure reasons from stderr', () => {
  it('takes the last line, or the message above a stack trace', () => {
    expect(lastLine('warning\nError: disk I/O error\n')).toBe('Error: disk I/O error');
    expect(lastLine('tsvisor: internal error: Error: boom\n    at f (x.js:1:1)\n    at main (x.js:2:2)\n')).toBe('tsvisor: internal error: Error: boom');
    expect(lastLine('')).toBe('');
  });
});

describe('README section', () => {
  it('replaces only the text between the markers', () => {
    const readme = `# t\n\nintro\n${BEGIN}\nold table\n${END}\nafter\n`;
    const out = replaceReadmeSection(readme, '| new |\n');
    expect(out).toBe(`# t\n\nintro\n${BEGIN}\n| new |\n${END}\nafter\n`);
    expect(replaceReadmeSection(out, 'x\n')).toBe(`# t\n\nintro\n${BEGIN}\nx\n${END}\nafter\n`);
    expect(() => replaceReadmeSection('# no markers', 'x')).toThrow();
  });
});
