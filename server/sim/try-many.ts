import { runSimulation } from "./run.ts";
const first = Number(process.argv[2] ?? 1), n = Number(process.argv[3] ?? 10);
const t = performance.now();
let fails = 0;
for (let s = first; s < first + n; s++) {
  const t1 = performance.now();
  const r = await runSimulation({ seed: s, lazySync: !!process.env.LAZY, chaosMs: Number(process.env.CHAOS ?? 8000) });
  if (r.problems.length) { fails++; console.log("seed", s, (performance.now()-t1).toFixed(0), "ms"); for (const p of r.problems.slice(0, 3)) console.log("  ", p.slice(0, 600)); }
}
console.log(`${n} seeds, ${fails} failed, ${(performance.now() - t).toFixed(0)} ms`);
