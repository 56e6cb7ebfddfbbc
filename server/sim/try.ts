import { runSimulation } from "./run.ts";
const seed = Number(process.argv[2] ?? 1);
const t = performance.now();
const r = await runSimulation({ seed, trace: !!process.env.TRACE, lazySync: !!process.env.LAZY });
console.log(seed, (performance.now() - t).toFixed(0), "ms", JSON.stringify(r.stats));
for (const p of r.problems) console.log("PROBLEM", p);
if (process.env.TRACE) console.log(r.trace.slice(-Number(process.env.TRACE)).join("\n"));
