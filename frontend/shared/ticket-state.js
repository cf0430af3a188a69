// What a window's current ticket is doing, in words that are true of it (issue 12): a ticket
// only called has not started — the citizen may not even have come to the counter — and one
// being served has. Every question or notice about "the ticket at this window" says it this
// way (the window terminal's, and the admin's before a window is paused or closed).

/** "已呼叫 A012 号，尚未开始办理" (called) or "正在办理 A012 号" (serving); "" for none. */
export function currentTicketPhrase(ticket) {
  if (!ticket) return "";
  return ticket.status === "called"
    ? `已呼叫 ${ticket.ticket_no} 号，尚未开始办理`
    : `正在办理 ${ticket.ticket_no} 号`;
}

/** The question before window `windowNo` is paused or closed (`action`: 暂停, 关闭) while
 * `ticket` is current at it. */
export function statusChangeQuestion(windowNo, ticket, action) {
  return `${windowNo} 号窗口${currentTicketPhrase(ticket)}，确定要${action}吗？`;
}

/** Why a clerk cannot sign out yet: what to do with the current ticket first. */
export function signOutRefusal(ticket) {
  return ticket.status === "called"
    ? `${currentTicketPhrase(ticket)}：请先开始办理、过号或取消，再签退`
    : `${currentTicketPhrase(ticket)}：请先办结或转办，再签退`;
}
