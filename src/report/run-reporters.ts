import { HtmlReporter } from './html.js';
import { JsonReporter } from './json.js';
import { JunitReporter } from './junit.js';
import { MarkdownReporter } from './markdown.js';
import { Reporters, type Reporter } from './reporter.js';
import { TapReporter } from './tap.js';

/**
 * The reporters that write a run directory's five files (results.json,
 * junit.xml, results.tap, summary.md, index.html), in one place for `run`
 * and `merge`. `progress`, when given, comes last: its end-of-run summary
 * points at the files the others have just written.
 */
export function runReporters(runDir: string, progress?: Reporter): Reporters {
  const files: Reporter[] = [
    new JsonReporter(runDir),
    new JunitReporter(runDir),
    new TapReporter(runDir),
    new MarkdownReporter(runDir),
    new HtmlReporter(runDir),
  ];
  return new Reporters(progress ? [...files, progress] : files);
}
