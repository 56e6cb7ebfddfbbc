import { expect, test } from "bun:test";
import { AppendStats, RATE_QUEUE_REQUESTS } from "./append-stats.ts";

test("rates cover the last RATE_QUEUE_REQUESTS appends; counts cover all; both sides apart", () => {
  const s = new AppendStats();
  expect(s.jsonFields(0)).toBe(`"recvAppendRequestCnt":0,"sendAppendRequestCnt":0`);
  // 250 sends, 10 ms apart, i-th of 100 + i bytes: the rate window holds the last 200 (50..249).
  for (let i = 0; i < 250; i++) s.sent(1_000 + 10 * i, 100 + i);
  const last = 1_000 + 10 * 249;
  const seconds = (last - (1_000 + 10 * 50)) / 1000;
  let bytes = 0;
  for (let i = 50; i < 250; i++) bytes += 100 + i;
  const fields = JSON.parse(`{${s.jsonFields(last)}}`);
  expect(fields.sendAppendRequestCnt).toBe(250);
  expect(fields.sendPkgRate).toBeCloseTo(RATE_QUEUE_REQUESTS / seconds, 6);
  expect(fields.sendBandwidthRate).toBeCloseTo(bytes / seconds, 6);
  expect(fields.recvPkgRate).toBeUndefined();
  // A second after the last append the rates are 0 (left out) and start over.
  expect(s.jsonFields(last + 1_001)).toBe(`"recvAppendRequestCnt":0,"sendAppendRequestCnt":250`);
  s.sent(10_000, 5);
  s.sent(10_500, 7);
  expect(JSON.parse(`{${s.jsonFields(10_500)}}`)).toMatchObject({ sendPkgRate: 4, sendBandwidthRate: 24 });
});
