/** The README's "Try it" block, split where the service is up and where it is stopped. */
export interface TryIt {
  /** Every line before the stop line: start, then what runs against the service. */
  run: string[];
  /** The line that stops the service. */
  stop: string;
}

/** The one command setting the documented port override (docs/operations.md, README). */
export const movePort = (line: string, port: number) => `SIGNER__SERVER__PORT=${port} ${line}`;

/**
 * The first fenced `bash` block under README.md's `## Try it` heading, line by line, with the port
 * moved on its `npm start` line the documented way. Throws, naming what is missing, when the block,
 * its start line or its stop line is not there: a README that cannot be followed fails the test.
 */
export function tryIt(markdown: string, port: number): TryIt {
  const section = /^## Try it\b[^\n]*\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(markdown)?.[1];
  const block = section && /^```bash\n([\s\S]*?)^```/m.exec(section)?.[1];
  if (!block) throw new Error('README.md: no ```bash block under "## Try it"');
  const lines = block.split('\n').filter((line) => line.trim() !== '');
  const start = lines.findIndex((line) => line.startsWith('npm start'));
  const stop = lines.findIndex((line) => line.startsWith('npm stop'));
  if (start < 0) throw new Error('README.md "Try it": no line starts the service with npm start');
  if (stop < start) throw new Error('README.md "Try it": no npm stop line after the start');
  const run = lines.slice(0, stop).map((line, index) => (index === start ? movePort(line, port) : line));
  return { run, stop: lines[stop] };
}
