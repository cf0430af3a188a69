// 监察提醒 on the window terminal: the open alarms of this window (supervision's 预警, 黄牌, 红牌
// on its cases and its tickets), a strip under the header that never takes the clerk's focus or
// blocks a key. Read on showing the terminal and after a reconnect (GET .../alarms?state=open
// &window_no=n), kept live from alarm.issued / alarm.changed (window/events.js gives the
// reduced list); a case's alarm opens the case in the case panel.
import { $, api, coalesce, fill, formatDateTime, h } from "../shared/api.js";
import { levelChip, syncRows } from "../shared/alarm-view.js";
import { alarmsUrl, announcement, answerOverdue, openAlarms, stateText } from "../shared/alarms.js";

const NEW_FOR_MS = 15000;   // a new alarm stays highlighted this long

/**
 * @param {{hall: () => {code}, windowNo: () => number|null, openCase: (caseId) => void,
 *          toLogin: Function}} t  the terminal around the strip
 */
export function createAlarmPanel(t) {
  const s = {
    shown: false,
    alarms: [],
    rows: new Map(),         // alarm_id -> its row element
    arrivedAt: new Map(),    // alarm_id -> when it came live
    events: 0,               // alarm events applied: a read begun before one is stale
  };
  const panel = $("#alarms");
  const list = $("#alarm-list");

  async function load() {
    const windowNo = t.windowNo();
    if (!s.shown || !windowNo) return;
    const before = s.events;
    let answer;
    try {
      answer = await api(alarmsUrl(t.hall().code, { windowNo }));
    } catch (err) {
      if (err.status === 401) return t.toLogin();
      // the live events still show new alarms; the next reconnect reads the list again
      if (err.status !== 403) console.error(err);
      return;
    }
    if (!s.shown || t.windowNo() !== windowNo) return;
    if (s.events !== before) { refresh(); return; }   // an event came meanwhile: read again
    s.alarms = openAlarms(answer);
    render();
  }
  const refresh = coalesce(load, 100);

  function build(alarm) {
    const open = h("button", { type: "button", class: "btn a-open", hidden: true }, "");
    open.addEventListener("click", () => {
      const a = s.alarms.find((x) => x.alarm_id === Number(row.dataset.alarm));
      if (a && a.case_id) t.openCase(a.case_id);
    });
    const row = h("li", { class: "a-row" },
      h("span", { class: "a-chip" }),
      h("span", { class: "a-summary" }),
      h("span", { class: "a-btns" }, open),
      h("span", { class: "a-meta" }));
    return row;
  }

  function update(row, a) {
    const arrived = s.arrivedAt.get(a.alarm_id);
    row.classList.toggle("a-new", arrived !== undefined && Date.now() - arrived < NEW_FOR_MS);
    row.dataset.level = a.level;
    row.dataset.state = a.state;
    fill(row.querySelector(".a-chip"), levelChip(a));
    row.querySelector(".a-summary").textContent = a.summary;
    const late = answerOverdue(a);
    fill(row.querySelector(".a-meta"),
      h("span", {}, a.kind_name || ""), " · ",
      h("span", { class: late ? "a-late a-state" : "a-state" }, stateText(a) + (late ? "（已逾期）" : "")),
      ` · ${formatDateTime(a.issued_at)}`);
    const open = row.querySelector(".a-open");
    open.hidden = !a.case_id;
    open.textContent = a.case_no ? `打开办件 ${a.case_no}` : "打开办件";
  }

  function render() {
    const shown = s.shown && s.alarms.length > 0;
    panel.hidden = !shown;
    if (!s.shown) return;
    panel.dataset.top = s.alarms.length ? s.alarms[0].level : "";
    $("#alarm-count").textContent = String(s.alarms.length);
    syncRows(list, s.rows, s.alarms, build, update);
  }

  // the highlight of a new alarm fades by itself
  setInterval(() => {
    if (!s.shown || !s.arrivedAt.size) return;
    for (const [id, when] of s.arrivedAt) if (Date.now() - when >= NEW_FOR_MS) s.arrivedAt.delete(id);
    render();
  }, 5000);

  return {
    show() {
      s.shown = true;
      render();
      refresh();
    },
    hide() {
      s.shown = false;
      s.alarms = [];
      s.arrivedAt.clear();
      syncRows(list, s.rows, [], build, update);
      render();
    },
    /** After a reconnect: what happened meanwhile. */
    refresh() {
      if (s.shown) refresh();
    },
    /** The list window/events.js reduces an alarm event on. */
    list: () => s.alarms,
    /** An alarm event's effect (shared/alarms.js reduceAlarms). */
    apply(effect) {
      if (!effect || !s.shown) return;
      s.events += 1;
      s.alarms = effect.alarms;
      if (effect.arrived !== null) {
        s.arrivedAt.set(effect.arrived, Date.now());
        const a = s.alarms.find((x) => x.alarm_id === effect.arrived);
        if (a) $("#alarm-announce").textContent = announcement(a);
      }
      render();
      if (effect.refetch) refresh();
    },
  };
}
