// How an alarm looks on the window terminal and the leader's page (styles: shared/alarms.css),
// and a keyed list that keeps each alarm's row element: a live event updates the rows in place,
// so a button, a field being typed in, or the focus inside a row stays where it was.
import { h } from "./api.js";
import { levelName, levelTone } from "./alarms.js";

/** The level as a chip: its name always, its colour as well. */
export function levelChip(alarm) {
  return h("span", { class: `a-level a-${levelTone(alarm.level)}`, dataset: { level: alarm.level } },
    alarm.level_name || levelName(alarm.level));
}

/**
 * Makes `parent`'s children the rows of `alarms`, in order: a row is built once per alarm
 * (`build(alarm)` -> element) and given the alarm each time (`update(row, alarm)`); rows already
 * in their place are not moved (moving an element takes the focus from inside it).
 * `rows` (alarm_id -> element) is kept between calls.
 */
export function syncRows(parent, rows, alarms, build, update) {
  const wanted = new Set(alarms.map((a) => a.alarm_id));
  for (const [id, row] of rows) {
    if (!wanted.has(id)) {
      row.remove();
      rows.delete(id);
    }
  }
  let at = parent.firstElementChild;
  for (const alarm of alarms) {
    let row = rows.get(alarm.alarm_id);
    if (!row) {
      row = build(alarm);
      row.dataset.alarm = String(alarm.alarm_id);
      rows.set(alarm.alarm_id, row);
    }
    update(row, alarm);
    // anything that is not one of our rows (an "empty" line) goes
    while (at && at !== row && !rows.has(Number(at.dataset.alarm))) {
      const next = at.nextElementSibling;
      at.remove();
      at = next;
    }
    if (at === row) at = row.nextElementSibling;
    else parent.insertBefore(row, at);
  }
  while (at) {
    const next = at.nextElementSibling;
    at.remove();
    at = next;
  }
}
