/**
 * GoProgressBar against lines Go etcdctl 3.4's `check perf` printed (pb.v1, "Bom !"): without a
 * terminal ` 1 / 60    1.67% 00m59s`, the finished line ` 60 / 60  100.00% 1m0s`; on a terminal the
 * bar fills the width (pb.v1's write() worked by hand for width 40).
 */
import { expect, test } from "bun:test";
import { GoProgressBar } from "./pb.ts";

function bar(width: number) {
  let now = 0;
  let out = "";
  const b = new GoProgressBar(60, { write: (t) => (out += t), width: () => width, now: () => now });
  return { b, tick: (ms: number) => (now += ms), out: () => out };
}

test("no terminal: counters, percent and time left as etcdctl prints them", () => {
  const { b, tick } = bar(0);
  expect(b.line()).toBe(" 0 / 60    0.00%");
  b.add(1);
  tick(1000);
  // The change is seen at the next refresh (pb.Update), which sets the change time.
  (b as unknown as { update(): void }).update();
  expect(b.line()).toBe(" 1 / 60    1.67% 00m59s");
  tick(400);
  expect(b.line()).toBe(" 1 / 60    1.67% 00m58s");
  b.add(58);
  tick(600);
  (b as unknown as { update(): void }).update();
  expect(b.line()).toBe(" 59 / 60   98.33%");
});

test("finish prints the time spent in Go's Duration format and a newline", () => {
  const { b, tick, out } = bar(0);
  b.start();
  b.add(60);
  tick(60_400);
  b.finish();
  b.finish();
  expect(out()).toBe("\r 0 / 60    0.00%\r 60 / 60  100.00% 1m0s\n");
});

test("terminal width: the Bom ! bar fills the line", () => {
  const { b } = bar(40);
  b.add(30);
  // counters " 30 / 60 " (9) + "B" + "!" + percent "  50.00%" (8), no time box: size 40-19 = 21.
  expect(b.line()).toBe(" 30 / 60 B" + "o".repeat(10) + "m" + " ".repeat(10) + "!  50.00%");
  expect(b.line().length).toBe(40);
});
