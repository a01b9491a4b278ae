// Prints vitest's JSON report as one plain closing line: "<label>: N passed, N failed, N skipped".
import fs from 'node:fs';

const [file, label] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(file as string, 'utf8'));
process.stdout.write(
  `${label}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped\n`,
);
