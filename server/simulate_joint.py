"""The simulator's workflows that flow between windows (issue 10), played through the same API as
the rest of the day (`server/simulate.py` drives it):

- 多证联办 (`company-setup`): a share of the citizens at the bundle's lead queue (市场监管) come to
  set up a company (its stage's item, 企业设立登记); the window accepts the ticket as a joint
  case. The departments' clerks find the ready steps in their inbox (GET .../inbox), claim and
  complete them; most within their limit, a few past it (the server's timer raises the overrun
  alarm). When the last step is done the applicant (texted by the server) comes back to the
  pick-up window, mostly the next working day: two visits instead of seven.
- 一表通 (`construction-project`): a few new projects a week, by appointment at a 规划 window
  (no queue ticket); each later stage is accepted a few working days after the one before is
  completed (`project`), and its result picked up. Some 联审 steps are left silent, so the
  server's timer records them as consented (超时默许); now and then a deferrable material is
  missing at intake (容缺) and handed in a working day or two later.

Who works a step: a clerk signed in at a window of its department. A department the run staffs
no window of (--windows) gets a back-office desk: its first window's clerk signs in there, keeps
the window closed, and works the inbox. Each department looks at its inbox every two hours, and at once when a
step of its workflow may have become ready (an intake, a step done, a material handed in), so a
step is seen at once without polling the server hard.

Times are planned on the simulator's clock and its working periods (a step's limit counted in
them, a little shorter than the hall's: an on-time step finishes within 70 % of its limit, so
it is on time by the hall's calendar too)."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp

from server.simulate import TZ, WORK_DAY_SECONDS, work_instant, working_day, working_later

if TYPE_CHECKING:
    from server.simulate import Simulation

BUNDLE = "company-setup"
PROJECT_FLOW = "construction-project"
# 多证联办's share of the lead queue's citizens. Basis: the city hall's ~2,600 registrations a
# working day (650,000 cases a year over 130 windows) give 市场监管's 14 windows ~280; a city of
# 3 million registers ~10,000 companies a year, ~40 a working day: 40 / 280 ≈ 14 %
COMPANY_SETUP_SHARE = 0.14
# 一表通: new construction projects a week in the city hall (~200 a year of social investment
# projects); a county hall or a smaller run gets its share by registrations
PROJECTS_PER_WEEK = 4.0
STEP_OVERRUN_SHARE = 0.08  # a step done past its limit (copy_notice steps; the alarm follows)
SILENT_SHARE = 0.15  # a 联审 step the department leaves unanswered: 超时默许 by the timer
SAME_DAY_PICKUP_SHARE = 0.15  # picked up the day it was completed (one visit)
PROJECT_DEFICIENCY_SHARE = 0.2  # a stage accepted with a deferrable material missing (容缺)
# a department's look at its inbox when nothing told it to look sooner (what the simulator did
# makes it look at once; only the timer's 超时默许 goes unannounced)
INBOX_LOOK_S = 2 * 3600
SETTLED = ("done", "consented")
COMPANY_WORDS = "鑫源华泰恒达盛宏远金诚瑞丰海川东方明德嘉禾安泰润泽"
INDUSTRIES = ("商贸", "科技", "建材", "物流", "餐饮管理", "海洋渔业", "新能源", "文化传媒")
DISTRICTS = ("东港区", "岚山区", "经济技术开发区", "山海天旅游度假区", "高新区")
WORKS = (
    "第二实验小学新建",
    "人民医院综合楼",
    "物流园仓储中心",
    "污水处理厂提标改造",
    "安置房",
    "商业综合体",
    "产业园标准化厂房",
)


def limit_seconds(limit: dict[str, Any]) -> float:
    """A step's limit in the simulator's working time."""
    per = WORK_DAY_SECONDS if limit["unit"] == "working_day" else 3600
    return float(limit["amount"] * per)


class JointWork:
    """The joint cases of one simulation: intake at the window, the departments' inboxes, the
    pick-up, and the projects' stages."""

    def __init__(self, sim: Simulation):
        self.sim = sim
        o = sim.o
        # a stream of its own: the rest of the day draws what it drew before
        self.rng = random.Random(None if o.seed is None else f"joint-{o.seed}")
        self.on = o.cases
        self.definitions: dict[str, dict[str, Any]] = {}
        self.workers: dict[str, list[int]] = {}  # department -> windows whose clerk works steps
        self.desk_tokens: dict[int, str] = {}  # back-office window -> its clerk's token
        self.tickets: set[int] = set()  # tickets drawn as company setups
        self.looks: dict[str, asyncio.Event] = {}  # department -> wake its inbox look
        self.seen: set[int] = set()  # steps planned
        self.finished: set[int] = set()  # joint cases seen completed
        self.stage_done: dict[int, asyncio.Event] = {}  # a project stage's case -> completed
        self.day_no = 0
        self.bundle_item: str | None = None
        self.joint_share: dict[str, float] = {}  # queue -> share drawn for a company setup
        self.projects_per_day = 0.0
        self.phase = 0.0

    # -- set-up ------------------------------------------------------------------------------
    def token(self, window_no: int) -> str:
        return self.sim.tokens.get(window_no) or self.desk_tokens[window_no]

    async def setup(self) -> str:
        """Reads the hall's definitions, signs in a back-office desk for each department the run
        staffs no window of; answers a line for the progress output."""
        sim = self.sim
        if not self.on or not sim.tokens:
            self.on = False
            return ""
        status, body = await sim._json(
            "GET", f"/api/halls/{sim.o.hall}/workflows", next(iter(sim.tokens.values()))
        )
        if status != 200:
            sim.stats.error(f"workflows: {status}")
            self.on = False
            return ""
        departments = {w["department"] for w in sim.all_windows}
        for w in body.get("workflows", []):
            d = w["definition"]
            needed = {d["lead_department"]} | {
                s["department"] for st in d["stages"] for s in st["steps"]
            }
            if w["code"] in (BUNDLE, PROJECT_FLOW) and needed <= departments:
                self.definitions[w["code"]] = d
        needed = {
            dept
            for d in self.definitions.values()
            for dept in [d["lead_department"]]
            + [s["department"] for st in d["stages"] for s in st["steps"]]
        }
        sem = asyncio.Semaphore(4)  # as the clerks' logins: argon2 costs the server per login
        await asyncio.gather(*(self._staff(dept, sem) for dept in sorted(needed)))
        for dept in self.workers:
            self.looks[dept] = asyncio.Event()
        bundle = self.definitions.get(BUNDLE)
        share = sim.o.company_setup_share
        share = (COMPANY_SETUP_SHARE if share is None else share) if bundle else 0.0
        item = bundle["stages"][0].get("item") if bundle else None
        queue = next(
            (i["queue_code"] for q in sim.items_by_queue.values() for i in q if i["code"] == item),
            None,
        )
        self.bundle_item = item
        self.joint_share = {queue: share} if queue and share > 0 else {}
        per_week = sim.o.projects_per_week
        if per_week is None:
            per_week = PROJECTS_PER_WEEK * sim.per_day / 2600
        self.projects_per_day = per_week / 5 if PROJECT_FLOW in self.definitions else 0.0
        self.phase = self.rng.random()
        desks = ", ".join(f"{no}" for no in sorted(self.desk_tokens)) or "none"
        return (
            f"joint work: company setups {share:.0%} of queue {queue or '-'}, "
            f"{per_week:.1f} projects a week; back-office desks at windows {desks}"
        )

    async def _staff(self, dept: str, sem: asyncio.Semaphore) -> None:
        """The windows whose clerks work the department's steps: the staffed ones, or else a
        back-office desk at its first window."""
        sim = self.sim
        staffed = [no for no in sim.tokens if sim.department_of_window.get(no) == dept]
        if staffed:
            self.workers[dept] = staffed
            return
        no = min(w["window_no"] for w in sim.all_windows if w["department"] == dept)
        username = sim.all_clerks.get(no)
        if username is None:
            return
        async with sem:
            token = await sim.login_staff(username, "clerk")
        if token is None:
            return
        path = f"/api/halls/{sim.o.hall}/windows/{no}/sign-in"
        status, body = await sim._json("POST", path, token)
        if status != 200:
            sim.stats.error(f"desk sign-in {no}: {(body.get('error') or {}).get('code', status)}")
            return
        self.desk_tokens[no] = token
        self.workers[dept] = [no]

    def start(self) -> list[asyncio.Task]:
        if not self.on:
            return []
        return [asyncio.create_task(self.inbox(dept)) for dept in self.workers]

    async def close(self) -> None:
        """The back-office desks sign out (best effort: the server may be gone)."""
        sim = self.sim
        for no, token in self.desk_tokens.items():
            try:
                await sim._json("POST", f"/api/halls/{sim.o.hall}/windows/{no}/sign-out", token)
            except (aiohttp.ClientError, TimeoutError):
                return

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.sim.case_tasks.add(task)
        task.add_done_callback(self.sim.case_tasks.discard)

    def _look(self, departments: set[str]) -> None:
        for dept in departments:
            if dept in self.looks:
                self.looks[dept].set()

    def _departments(self, code: str, stage_no: int = 1, first: bool = False) -> set[str]:
        """The departments of a stage's steps (`first`: of those ready at intake)."""
        steps = self.definitions[code]["stages"][stage_no - 1]["steps"]
        return {s["department"] for s in steps if not (first and s.get("after"))}

    def _step_def(self, code: str, stage_no: int, step: str) -> dict[str, Any]:
        stage = self.definitions[code]["stages"][(stage_no or 1) - 1]
        return next(s for s in stage["steps"] if s["code"] == step)

    # -- company setups at the window --------------------------------------------------------
    def draw(self, queue: str) -> dict[str, Any] | None:
        """At the kiosk: the item of a citizen who comes to set up a company, or None."""
        share = self.joint_share.get(queue, 0.0) if self.on else 0.0
        if share and self.sim.rng.random() < share:
            return next(i for i in self.sim.items_by_queue[queue] if i["code"] == self.bundle_item)
        return None

    def _company(self) -> dict[str, Any]:
        rng = self.rng
        words = "".join(rng.sample(COMPANY_WORDS, 2))
        return {
            "name": f"日照{words}{rng.choice(INDUSTRIES)}有限公司",
            "phone": "13" + "".join(rng.choice("0123456789") for _ in range(9)),
        }

    async def intake(self, no: int, token: str, ticket_id: int, service: float) -> None:
        """The lead window accepts the served ticket as a company setup (every material once)."""
        sim, clock = self.sim, self.sim.clock
        t_end = clock.now() + timedelta(seconds=service)
        await clock.sleep(service * 0.5)
        status, _ = await sim._case_call(
            "POST",
            f"/api/halls/{sim.o.hall}/cases",
            token,
            {"ticket_id": ticket_id, "workflow": BUNDLE, "applicant": self._company()},
            "joint accept",
            ok=201,
        )
        if status == 201:
            s = sim.stats
            s.cases += 1
            s.promised += 1
            s.joint += 1
            self._look(self._departments(BUNDLE, first=True))
        await clock.until(t_end)

    # -- the departments' inboxes ------------------------------------------------------------
    async def inbox(self, dept: str) -> None:
        """A department's look at its inbox: each ready step not yet seen is planned."""
        sim = self.sim
        while not sim.stop.is_set():
            look = self.looks[dept] = asyncio.Event()
            no = self.workers[dept][0]
            try:
                status, body = await sim._json(
                    "GET", f"/api/halls/{sim.o.hall}/inbox", self.token(no)
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                sim.stats.error(f"inbox: {type(exc).__name__}")
                status, body = 0, {}
            if status == 200:
                for step in body.get("steps", []):
                    if step["state"] == "ready" and step["step_id"] not in self.seen:
                        self.seen.add(step["step_id"])
                        self._spawn(self.work(dept, step))
            elif status:
                sim.stats.error(f"inbox: {status}")
            try:  # told to look, or an hour of simulated time
                await asyncio.wait_for(look.wait(), INBOX_LOOK_S / sim.clock.speed)
            except TimeoutError:
                pass

    async def work(self, dept: str, step: dict[str, Any]) -> None:
        try:
            await self._work(dept, step)
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            self.sim.stats.error(f"step: {type(exc).__name__}")

    async def _work(self, dept: str, step: dict[str, Any]) -> None:
        """One step: claimed by a clerk of the department, completed by the same clerk, on time
        or (a few) past the limit; a 联审 step now and then left silent for the timer."""
        sim, rng, clock, s = self.sim, self.rng, self.sim.clock, self.sim.stats
        quota = sim.quota
        d = self._step_def(step["workflow"], step["stage_no"], step["code"])
        if d["mode"] == "joint_review" and quota.take("silent", SILENT_SHARE):
            s.steps_silent += 1  # nobody answers: the timer records 超时默许 at its due instant
            return
        now = clock.now()
        limit = limit_seconds(d["limit"])
        due = working_later(now, limit)
        on_time_by = working_later(now, limit * 0.7)
        # the server's own due instant, when its clock is the simulation's (in-process): a step
        # seen a little after it became ready is still done in time
        server_due = datetime.fromisoformat(step["due_at"]) if step.get("due_at") else None
        if server_due is not None and abs((server_due - due).total_seconds()) < 86400:
            due = max(due, server_due)
            on_time_by = min(on_time_by, server_due - timedelta(minutes=10))
        # a 联审 step open at its due instant is consented by the timer: only the others overrun
        if d["mode"] != "joint_review" and quota.take("step_overrun", STEP_OVERRUN_SHARE):
            done_at = work_instant(
                rng, due + timedelta(minutes=20), working_later(now, limit * 1.6)
            )
        else:
            done_at = work_instant(rng, now + timedelta(minutes=5), on_time_by)
        claim_at = work_instant(rng, now, min(done_at, now + (done_at - now) / 2))
        await clock.until(min(claim_at, done_at))
        no = rng.choice(self.workers[dept])
        path = f"/api/joint-steps/{step['step_id']}"
        status, _ = await self._step_call(no, f"{path}/claim", None, "claim")
        if status != 200:
            return
        s.steps_claimed += 1
        await clock.until(done_at)
        issued = list(d.get("issues", []))
        status, done = await self._step_call(
            no, f"{path}/complete", {"note": "同意", "issued": issued}, "complete"
        )
        if status != 200:
            return
        s.steps_done += 1
        if done.get("due_at") and done.get("done_at") and done["done_at"] > done["due_at"]:
            s.steps_late += 1
        # the steps waiting for this one may go now
        self._look(
            {
                o["department"]
                for st in self.definitions[step["workflow"]]["stages"]
                for o in st["steps"]
                if step["code"] in o.get("after", ())
            }
        )
        await self._settled(step)

    async def _step_call(self, no: int, path: str, body: Any, what: str) -> tuple[int, Any]:
        """A step command by the clerk of window `no`; a clerk not signed in yet (the window's
        morning sign-in a moment late) tries again a few minutes later."""
        sim = self.sim
        for _ in range(3):
            status, data = await sim._case_call(
                "POST",
                path,
                self.token(no),
                body,
                f"step {what}",
                tolerate=("not_signed_in", "step_claimed", "case_state", "step_state"),
            )
            code = (data.get("error") or {}).get("code") if isinstance(data, dict) else None
            if status != 403 or code != "not_signed_in":
                return status, data
            await sim.clock.sleep(300)
        sim.stats.error(f"case step {what}: not_signed_in")
        return status, data

    async def _settled(self, step: dict[str, Any]) -> None:
        """After a step: when every step of its case is settled, the case was completed by the
        server; the applicant picks up (a company setup), or the project goes on."""
        sim, case_id = self.sim, step["case_id"]
        # the lead window follows its case (the other departments see their steps only)
        lead = self.workers[self.definitions[step["workflow"]]["lead_department"]][0]
        status, body = await sim._case_call(
            "GET", f"/api/cases/{case_id}/steps", self.token(lead), None, "steps"
        )
        if status != 200 or case_id in self.finished:
            return
        if not all(x["state"] in SETTLED for x in body.get("steps", [])):
            return
        self.finished.add(case_id)
        s = sim.stats
        s.completed += 1
        if step["workflow"] == BUNDLE:
            s.joint_completed += 1
            self._spawn(self.pickup(BUNDLE, case_id))
        elif case_id in self.stage_done:
            self.stage_done[case_id].set()

    def _pickup_window(self, code: str) -> int:
        """The definition's pick-up window if the run staffs it, else a window of the lead
        department (any of its clerks may hand out)."""
        d = self.definitions[code]
        if d["pickup_window"] in self.sim.tokens or d["pickup_window"] in self.desk_tokens:
            return int(d["pickup_window"])
        return self.workers[d["lead_department"]][0]

    async def pickup(self, code: str, case_id: int) -> None:
        """The applicant, texted by the server, collects everything at the pick-up window:
        mostly the next working day (a second visit), a few the same afternoon."""
        sim, clock, rng = self.sim, self.sim.clock, self.rng
        now = clock.now()
        today_end = now.replace(hour=16, minute=45, second=0, microsecond=0)
        if now.hour < 15 and sim.quota.take("same_day_pickup", SAME_DAY_PICKUP_SHARE):
            when = work_instant(rng, now + timedelta(minutes=20), today_end)
        else:
            day = working_day(now.date(), 1 if rng.random() < 0.85 else 2)
            when = work_instant(
                rng,
                datetime.combine(day, datetime.min.time(), tzinfo=TZ),
                datetime.combine(day, datetime.max.time(), tzinfo=TZ),
            )
        await clock.until(when)
        status, data = await sim._case_call(
            "POST",
            f"/api/cases/{case_id}/deliver",
            self.token(self._pickup_window(code)),
            None,
            "joint deliver",
        )
        if status == 200:
            sim.stats.delivered += 1
            if code == BUNDLE:
                sim.stats.joint_delivered += 1
                sim.stats.joint_visits_2 += data.get("visits", 0) >= 2

    # -- 一表通 projects ----------------------------------------------------------------------
    async def day(self, day: datetime) -> None:
        """The projects that come today (a running share of the weekly rate, so a short run
        still has its few), each by appointment at a working instant of the day."""
        n = self.day_no
        self.day_no += 1
        rate = self.projects_per_day
        if not self.on or rate <= 0:
            return
        count = int((n + 1) * rate + self.phase) - int(n * rate + self.phase)
        clock = self.sim.clock
        start = max(clock.now(), day.replace(hour=9))
        times = sorted(
            work_instant(self.rng, start, day.replace(hour=16, minute=30)) for _ in range(count)
        )
        for t in times:
            await clock.until(t)
            if self.sim.stop.is_set():
                return
            self._spawn(self.project())

    def _builder(self) -> tuple[str, dict[str, Any]]:
        rng = self.rng
        words = "".join(rng.sample(COMPANY_WORDS, 2))
        kind = rng.choice(("置业", "建设", "城投", "实业"))
        builder = {
            "name": f"日照{words}{kind}有限公司",
            "phone": "13" + "".join(rng.choice("0123456789") for _ in range(9)),
        }
        return f"日照市{rng.choice(DISTRICTS)}{rng.choice(WORKS)}项目", builder

    async def project(self) -> None:
        try:
            await self._project()
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            self.sim.stats.error(f"project: {type(exc).__name__}")

    async def _project(self) -> None:
        """A project through its stages: each accepted at the lead window, its steps worked by
        the departments (their inboxes), its result picked up, and the next stage brought a few
        working days after the one before is completed."""
        sim, clock, rng, s = self.sim, self.sim.clock, self.rng, self.sim.stats
        d = self.definitions[PROJECT_FLOW]
        lead = d["lead_department"]
        name, builder = self._builder()
        project_no: str | None = None
        for stage_no in range(1, len(d["stages"]) + 1):
            no = rng.choice(self.workers[lead])
            token = self.token(no)
            body: dict[str, Any] = {"workflow": PROJECT_FLOW}
            if project_no is None:
                body.update(project_name=name, applicant=builder)
            else:
                body["project"] = project_no
            deferred = await self._deficiency(token, project_no, body)
            path = f"/api/halls/{sim.o.hall}/cases"
            status, case = await sim._case_call(
                "POST", path, token, body, "project accept", ok=201, tolerate=("deficiency_due",)
            )
            if status == 400 and deferred:
                # a running server's clock is not the simulation's: without the deferral
                body.pop("materials")
                body.pop("deficiency")
                deferred = False
                status, case = await sim._case_call(
                    "POST", path, token, body, "project accept", ok=201
                )
            if status != 201:
                return
            project_no = case["project_no"]
            case_id = case["case_id"]
            s.cases += 1
            s.promised += 1
            s.project_stages += 1
            s.projects += stage_no == 1
            s.deficiency += deferred
            done = self.stage_done[case_id] = asyncio.Event()
            self._look(self._departments(PROJECT_FLOW, stage_no, first=True))
            if deferred:
                self._spawn(self._supply(no, case_id, stage_no))
            # completed by the last step the departments do, or by the timer (超时默许): the
            # lead window looks at the case twice a working day meanwhile
            while not done.is_set():
                try:
                    await asyncio.wait_for(done.wait(), 4 * 3600 / clock.speed)
                except TimeoutError:
                    st, row = await sim._case_call(
                        "GET", f"/api/cases/{case_id}", token, None, "project open"
                    )
                    if st == 200 and row.get("state") in ("completed", "delivered"):
                        if case_id not in self.finished:
                            self.finished.add(case_id)
                            s.completed += 1
                        done.set()
            await self.pickup(PROJECT_FLOW, case_id)
            # the builder prepares the next stage's materials (designs, contracts)
            day = working_day(clock.now().date(), rng.randint(2, 8))
            await clock.until(
                work_instant(
                    rng,
                    datetime.combine(day, datetime.min.time(), tzinfo=TZ),
                    datetime.combine(day, datetime.max.time(), tzinfo=TZ),
                )
            )

    async def _deficiency(self, token: str, project_no: str | None, body: dict) -> bool:
        """Now and then a deferrable material of the stage is missing (容缺): the builder signs
        the commitment to bring it within three working days."""
        sim = self.sim
        query = f"?project={project_no}" if project_no else ""
        status, shown = await sim._case_call(
            "GET",
            f"/api/halls/{sim.o.hall}/workflows/{PROJECT_FLOW}/intake{query}",
            token,
            None,
            "project intake",
        )
        if status != 200:
            return False
        deferrable = [m for m in shown.get("materials", []) if not m["is_key"]]
        if not deferrable or not sim.quota.take("project_deficiency", PROJECT_DEFICIENCY_SHARE):
            return False
        m = self.rng.choice(deferrable)
        body["materials"] = [{"position": m["position"], "status": "missing"}]
        body["deficiency"] = {
            "commitment_signed": True,
            "due": working_day(sim.clock.now().date(), 3).isoformat(),
        }
        return True

    async def _supply(self, no: int, case_id: int, stage_no: int) -> None:
        """The deferred material handed in one or two working days later: the steps it held
        may go."""
        sim, clock = self.sim, self.sim.clock
        day = working_day(clock.now().date(), self.rng.randint(1, 2))
        await clock.until(
            work_instant(
                self.rng,
                datetime.combine(day, datetime.min.time(), tzinfo=TZ),
                datetime.combine(day, datetime.max.time(), tzinfo=TZ),
            )
        )
        status, _ = await sim._case_call(
            "POST",
            f"/api/cases/{case_id}/supplement/received",
            self.token(no),
            {},
            "project supplement",
        )
        if status == 200:
            sim.stats.supplements_received += 1
            sim.stats.project_supplied += 1
            self._look(self._departments(PROJECT_FLOW, stage_no))
