// 差评申诉 on the wall: a rectification.changed reads the appeals' panel again and nothing of
// the snapshot; a new task (no appeal yet) changes nothing on the wall.
import assert from "node:assert/strict";
import { test } from "node:test";

import { reduceWallEvent } from "../supervision/wall.js";

const model = () => ({ snap: { windows: [] }, alarms: [], counts: {}, truncated: false });
const ev = (type, data) => ({ seq: 1, type, hall_id: 1, at: "", window_id: null, data });

test("an appeal made or decided reads the appeals again, not the snapshot", () => {
  const effect = reduceWallEvent(model(), ev("rectification.changed", { rectification_id: 3, appeal_pending: true }));
  assert.deepEqual(effect, { render: false, refetch: false, arrived: null, appeals: true });
  assert.equal(reduceWallEvent(model(), ev("rectification.opened", { rectification_id: 3 })), null);
});
