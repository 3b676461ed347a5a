// Import rules of src/ (issue 17), checked by test/import-rules.test.ts and
// `npm run lint`. The pipeline reads scenario -> plan -> target -> engine ->
// capture -> compare -> report; the rules keep the pure stages (parsing,
// comparing, reporting) from reaching the machinery that runs a guest, and
// keep the top-level folders from leaning on each other in a circle.
// Paths are relative to the directory cruised from (the repository root, or
// a fixture tree in the tests).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'pure-stages-never-import-target',
      comment:
        'compare/, scenario/ and capture/ work on text and captures alone: they must run without a guest, ' +
        'so nothing in them may import target/ (type-only imports included).',
      severity: 'error',
      from: { path: '^src/(compare|scenario|capture)/' },
      to: { path: '^src/target/' },
    },
    {
      name: 'report-never-imports-target',
      comment:
        'Reporters render results.json and captures; what they need from a target travels in the results, ' +
        'so report/ must not import target/.',
      severity: 'error',
      from: { path: '^src/report/' },
      to: { path: '^src/target/' },
    },
    {
      name: 'target-never-imports-compare',
      comment: 'A target runs a guest and hands back captures; judging them is compare/, downstream of it.',
      severity: 'error',
      from: { path: '^src/target/' },
      to: { path: '^src/compare/' },
    },
    {
      name: 'no-cycle-between-top-level-folders',
      comment:
        'The top-level folders of src/ form a pipeline: src/X/... -> src/Y/... -> ... -> src/X is a cycle. ' +
        'dependency-cruiser finds it on its folder graph, where a folder stands for everything under it and an ' +
        'import points at the folder that holds the imported file (src/target/vm for src/target/vm/qemu.ts).',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/[^/]+$' },
      to: { circular: true },
    },
    {
      name: 'every-import-resolves',
      comment: 'A rule sees only the imports it can follow: one that resolves to nothing would slip past all of them.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `import type` and type-only names count: a type import is still a dependency of the design.
    tsPreCompilationDeps: true,
    // The folder graph (and so the cycle rule) is only built with metrics on.
    metrics: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    skipAnalysisNotInRules: true,
  },
};
