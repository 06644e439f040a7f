/**
 * `npm run bench`: every benchmark section, each printing its own table of
 * figures and ratios against a raw reference measured in the same run.
 * Run one section with `npm run bench -- <name>`.
 */
import { SECTIONS } from './sections.js';

const wanted = process.argv.slice(2);
for (const section of SECTIONS) {
  if (wanted.length > 0 && !wanted.includes(section.name)) continue;
  process.stdout.write(`\n## ${section.title}\n\n`);
  await section.run();
}
