// Cases on the window terminal, without a DOM (node tests it): the state names, the panel's
// actions keyed by the transition table's names (server/domain/case_flow.py TRANSITIONS: the
// case detail's `actions` says which apply now), and what a live case event means to the
// terminal.

/** case_flow.STATE_NAMES (a test compares the two). */
export const STATE_NAMES = Object.freeze({
  accepted: "已受理",
  in_progress: "办理中",
  awaiting_signoff: "待领导签批",
  approved: "已批准",
  refused: "不予许可",
  completed: "已办结",
  delivered: "已领取",
  not_accepted: "不予受理",
  withdrawn: "已撤回",
});

/** States that leave the window's list of open cases (db/queries/cases.py OPEN_CASES_OF_WINDOW). */
export const CLOSED_STATES = Object.freeze(["completed", "delivered", "not_accepted", "withdrawn"]);

export const KIND_NAMES = Object.freeze({
  immediate: "即办件",
  promised: "承诺件",
  urgent: "急办件",
  escalated: "上报件",
});

export const MATERIAL_STATUS_NAMES = Object.freeze({
  submitted: "已交",
  missing: "缺少",
  faulty: "有误",
  supplemented: "已补交",
});

export const SPECIAL_PROCEDURES = Object.freeze({
  hearing: "听证",
  testing: "检验检测",
  inspection: "现场核查",
  expert_review: "专家评审",
});

/** Transitions the case panel does not offer: acceptance has its own dialog (F8). */
export const NOT_ON_PANEL = Object.freeze(["case.accept"]);

const outstanding = (c) => (c.materials || []).filter((m) => m.status === "missing" || m.status === "faulty");
const running = (c) => c.clock && c.clock.status === "running";
const openSupplement = (c) => (c.supplements || []).find((s) => !s.received_at) || null;

/**
 * The panel's actions. `keys`: the transition-table rows it stands for (shown when the case's
 * `actions` holds one of them); `role`: who may press it; `when`: what else the server would
 * refuse anyway, so the button is not offered; `hotkey`: Alt + that letter; `form`: the dialog
 * it opens (none: it runs at once).
 */
export const CASE_ACTIONS = Object.freeze([
  { id: "start", keys: ["case.start"], label: "开始办理", hotkey: "S", style: "success" },
  { id: "approve", keys: ["case.decide:approve"], label: "审核通过", hotkey: "A", style: "success",
    form: "confirm", when: (c) => !c.requires_signoff },
  { id: "refuse", keys: ["case.decide:refuse"], label: "不予许可", hotkey: "R", style: "warn",
    form: "reason", when: (c) => !c.requires_signoff },
  { id: "signoff_request", keys: ["case.request_signoff:decision"], label: "提交领导签批", hotkey: "Q",
    style: "primary", form: "signoff_request" },
  { id: "extension", keys: ["case.request_signoff:extension"], label: "申请延期", hotkey: "Y",
    form: "extension", when: running },
  { id: "supplement", keys: ["case.supplement_request"], label: "补正告知", hotkey: "B", style: "warn",
    form: "supplement", when: (c) => running(c) && !openSupplement(c) },
  { id: "receive", keys: ["case.supplement_receive"], label: "材料已补交", hotkey: "J", style: "success",
    form: "receive", when: (c) => outstanding(c).length > 0 },
  { id: "materials", keys: ["case.materials"], label: "材料核对", hotkey: "M", form: "materials" },
  { id: "pause", keys: ["case.pause"], label: "特别程序", hotkey: "T", form: "pause", when: running },
  { id: "escalate", keys: ["case.escalate"], label: "报批", hotkey: "U", form: "reason", when: running },
  { id: "resume", keys: ["case.resume"], label: "恢复计时", hotkey: "H", style: "success",
    when: (c) => c.clock && c.clock.status === "paused" && c.clock_paused_kind !== "supplement" },
  { id: "fee", keys: ["case.fee"], label: "收费", hotkey: "P", form: "fee" },
  { id: "complete", keys: ["case.complete"], label: "办结", hotkey: "C", style: "primary", form: "confirm" },
  { id: "deliver", keys: ["case.deliver"], label: "领取", hotkey: "L", style: "primary", form: "confirm" },
  { id: "withdraw", keys: ["case.withdraw"], label: "撤回", hotkey: "W", form: "reason" },
  { id: "not_accept", keys: ["case.not_accept"], label: "不予受理", hotkey: "N", form: "reason" },
  { id: "signoff", keys: ["case.signoff:approve", "case.signoff:reject", "case.signoff:extension"],
    label: "签批", hotkey: "K", style: "primary", form: "signoff", role: "leader" },
]);

/** The actions to show for case detail `c` to a user of `role` ("clerk" | "leader"). */
export function visibleActions(c, role = "clerk") {
  const allowed = new Set(c.actions || []);
  return CASE_ACTIONS.filter((a) => (a.role || "clerk") === role
    && a.keys.some((k) => allowed.has(k)) && (!a.when || a.when(c)));
}

/** The action bound to Alt+`letter` among `actions`, or null. */
export function actionForKey(actions, letter) {
  const l = String(letter).toUpperCase();
  return actions.find((a) => a.hotkey === l) || null;
}

export { openSupplement, outstanding };

/** Event types of cases and sign-offs (window/events.js hands them here). */
export const CASE_EVENTS = Object.freeze([
  "case.accepted",
  "case.changed",
  "case.fee_collected",
  "signoff.requested",
  "signoff.decided",
]);

const has = (set, v) => v !== null && v !== undefined && (set instanceof Set ? set.has(v) : (set || []).includes(v));

/**
 * What case event `ev` means to the terminal showing `view` = {windowNo, department (code),
 * openCaseId, shownCaseIds, leader}:
 * {refreshCase: fetch the open case again; refreshList: fetch the window's cases again;
 *  refreshSignoffs: fetch the leader's waiting sign-offs again;
 *  decision: a leader's sign-off on a case shown here (to show at once), or null}.
 */
export function reduceCaseEvent(ev, view = {}) {
  const d = ev.data || {};
  const effect = { refreshCase: false, refreshList: false, refreshSignoffs: false, decision: null };
  const open = d.case_id !== undefined && d.case_id === view.openCaseId;
  const shown = has(view.shownCaseIds, d.case_id);
  const ours = (view.windowNo !== null && view.windowNo !== undefined && d.window_no === view.windowNo)
    || (!!view.department && d.department === view.department);
  const leaderHere = !!view.leader && !!view.department && d.department === view.department;
  switch (ev.type) {
    case "case.accepted":
    case "case.changed":
      effect.refreshCase = open;
      effect.refreshList = ours || shown;
      effect.refreshSignoffs = leaderHere
        && (d.state === "awaiting_signoff" || d.previous === "awaiting_signoff");
      return effect;
    case "case.fee_collected":
      effect.refreshCase = open;
      return effect;
    case "signoff.requested":
      effect.refreshCase = open;
      effect.refreshSignoffs = leaderHere;
      return effect;
    case "signoff.decided":
      effect.refreshCase = open;
      effect.refreshList = ours || shown;
      effect.refreshSignoffs = leaderHere;
      if (open || shown) {
        effect.decision = {
          case_id: d.case_id, case_no: d.case_no, purpose: d.purpose, decision: d.decision,
          comment: d.comment, leader_name: d.leader_name, state: d.state, decided_at: d.decided_at,
        };
      }
      return effect;
    default:
      return null;
  }
}

/**
 * Applies a case.accepted / case.changed payload to the shown list (case summaries) at once,
 * before the list is fetched again: its state, clock and missing count; a case that closed
 * leaves the list. Returns true when the list changed.
 */
export function applyCaseEvent(cases, ev) {
  if (ev.type !== "case.accepted" && ev.type !== "case.changed") return false;
  const d = ev.data || {};
  const i = cases.findIndex((c) => c.case_id === d.case_id);
  if (i < 0) return false;
  if (CLOSED_STATES.includes(d.state)) {
    cases.splice(i, 1);
    return true;
  }
  const c = cases[i];
  cases[i] = {
    ...c,
    state: d.state,
    state_name: STATE_NAMES[d.state] || d.state,
    kind: d.kind || c.kind,
    clock: d.clock ? { ...c.clock, ...d.clock } : c.clock,
    missing: Array.isArray(d.missing) ? d.missing.length : c.missing,
    deficiency_due: d.deficiency_due !== undefined ? d.deficiency_due : c.deficiency_due,
  };
  return true;
}

/**
 * Applies a case event to the list of cases waiting to be picked up (all completed): a case
 * that leaves 已办结 (picked up, at this window or another) leaves the list at once. A case
 * that becomes completed is not known here yet: the list is fetched again for it. Returns true
 * when the list changed.
 */
export function applyPickupEvent(cases, ev) {
  if (ev.type !== "case.changed") return false;
  const d = ev.data || {};
  const i = cases.findIndex((c) => c.case_id === d.case_id);
  if (i < 0 || d.state === "completed") return false;
  cases.splice(i, 1);
  return true;
}

// What the server finds a case by (catalogue FindParams.code)
const CASE_CODE = /^[A-Za-z0-9-]{4,40}$/;

/**
 * The code in what was scanned into 扫描回执/告知单: the receipt's case number or the notice's
 * barcode as typed, or the `code` of a QR code's /track URL (a scanner types the whole URL).
 * Upper case, as printed. null when it cannot be one.
 */
export function scannedCaseCode(text) {
  let raw = String(text ?? "").trim();
  if (/[/?=]/.test(raw)) {
    let url;
    try { url = new URL(raw, "http://scan.invalid/"); } catch { return null; }
    raw = (url.searchParams.get("code") || "").trim();
  }
  return CASE_CODE.test(raw) ? raw.toUpperCase() : null;
}

/** The banner of a leader's decision: {tone, title, text}. */
export function decisionText(dec) {
  const approved = dec.decision === "approved";
  const what = dec.purpose === "extension" ? "延期申请" : "签批";
  return {
    tone: approved ? "ok" : "no",
    title: `领导${what}：${approved ? "同意" : "不同意"}`,
    text: `${dec.leader_name || "领导"}${dec.comment ? `：“${dec.comment}”` : "（无意见）"}`,
  };
}

/** 80.00 元 */
export function yuan(cents) {
  return `${(Number(cents || 0) / 100).toFixed(2)} 元`;
}
