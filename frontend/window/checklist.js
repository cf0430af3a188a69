// The ticket's materials checklist (材料核对, beside the current ticket). Before acceptance it is
// the clerk's own ticks, which the acceptance dialog starts from. Once the ticket is accepted as
// a case, the case's materials are the one record: the checklist shows them, read-only, so the
// screen never says "已收 0/7" beside a case whose materials are all in.

const HANDED_IN = new Set(["submitted", "supplemented"]);

/**
 * @param {Array<{position:number,is_key:boolean}>} materials  the item's list
 * @param {Set<number>} ticked  the positions the clerk ticked on this ticket
 * @param {object|null} accepted  the case accepted from this ticket ({case_no, materials}), if any
 * @returns {{ticked:Set<number>, locked:boolean, ok:boolean, text:string}}
 */
export function checklist(materials, ticked, accepted) {
  if (accepted && Array.isArray(accepted.materials) && accepted.materials.length) {
    const have = new Set(accepted.materials.filter((m) => HANDED_IN.has(m.status)).map((m) => m.position));
    const all = accepted.materials.length;
    return {
      ticked: have,
      locked: true,
      ok: have.size === all,
      text: have.size === all
        ? `已受理为办件 ${accepted.case_no}，材料齐全`
        : `已受理为办件 ${accepted.case_no}，材料以办件为准：已交 ${have.size}/${all}`,
    };
  }
  const missingKey = materials.filter((m) => m.is_key && !ticked.has(m.position)).length;
  let text;
  if (missingKey) text = `已收 ${ticked.size}/${materials.length}，还缺 ${missingKey} 项必备材料`;
  else if (ticked.size === materials.length) text = "材料齐全，可以受理";
  else text = `必备材料已齐，其余 ${materials.length - ticked.size} 项可容缺受理、后补`;
  return { ticked, locked: false, ok: !missingKey, text };
}
