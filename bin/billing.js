#!/usr/bin/env node
// `npx billing <command>`: the on-call CLI (src/cli/main.ts). Its source is TypeScript, which the
// pinned Node 24 (the `node` devDependency, node_modules/.bin/node) runs as it is; `npx` puts that
// Node first on the PATH. Started by an older Node, this runs the CLI on the pinned one.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

if (Number(process.versions.node.split(".")[0]) >= 24) {
  await import(pathToFileURL(main).href);
} else {
  const pinned = fileURLToPath(new URL(`../node_modules/.bin/${process.platform === "win32" ? "node.cmd" : "node"}`, import.meta.url));
  if (!existsSync(pinned)) {
    console.error(`billing: needs Node 24 (this is ${process.version}); run \`npm ci\` first, which installs it`);
    process.exit(2);
  }
  const child = spawn(pinned, [main, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal !== null) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
