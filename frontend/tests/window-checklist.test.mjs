// The ticket's materials checklist (frontend/window/checklist.js): the clerk's ticks before
// acceptance, the case's record after it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { checklist } from "../window/checklist.js";

const ITEM = [
  { position: 1, is_key: true }, { position: 2, is_key: true }, { position: 3, is_key: false },
];

test("before acceptance: the clerk's ticks, and what key material is still missing", () => {
  assert.deepEqual(checklist(ITEM, new Set(), null),
    { ticked: new Set(), locked: false, ok: false, text: "已收 0/3，还缺 2 项必备材料" });
  assert.equal(checklist(ITEM, new Set([1, 2]), null).text, "必备材料已齐，其余 1 项可容缺受理、后补");
  assert.equal(checklist(ITEM, new Set([1, 2, 3]), null).text, "材料齐全，可以受理");
});

test("once accepted: the case's materials, read-only, whatever was ticked", () => {
  const accepted = {
    case_no: "RIZHAO-20261207-00001",
    materials: [
      { position: 1, status: "submitted" }, { position: 2, status: "supplemented" }, { position: 3, status: "missing" },
    ],
  };
  const shown = checklist(ITEM, new Set(), accepted);
  assert.deepEqual([...shown.ticked].sort(), [1, 2]);
  assert.equal(shown.locked, true);
  assert.equal(shown.ok, false);
  assert.equal(shown.text, "已受理为办件 RIZHAO-20261207-00001，材料以办件为准：已交 2/3");
  accepted.materials[2].status = "submitted";
  assert.deepEqual(checklist(ITEM, new Set([1]), accepted),
    { ticked: new Set([1, 2, 3]), locked: true, ok: true, text: "已受理为办件 RIZHAO-20261207-00001，材料齐全" });
});

test("a case not yet loaded (no materials) leaves the clerk's ticks", () => {
  assert.equal(checklist(ITEM, new Set([1]), { case_no: "X" }).locked, false);
});
