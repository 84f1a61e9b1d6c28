"""The guard between a confirmed plan and the cloud: refuse, send, report, audit.

Read-only holds at three depths: screens never bind a dangerous action
(`actions_for(..., readonly=True)`), this runner refuses one before anything is sent,
and the HTTP client of a read-only session refuses any method but GET. A credential
known to be GET-only is offered nothing either (its refusal would come only after the
operator confirmed), and is refused here too, with a message that says so, rather
than with the 403 the cloud would answer. Every attempt, whatever its end, leaves one
audit line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from osconsole.actions.catalog import action_named, actions_for, build_plan
from osconsole.actions.model import Action, ActionTarget, Facts, Plan, PlanError, Request
from osconsole.audit import AuditEntry, AuditLog
from osconsole.clean import clean_text
from osconsole.cloud.auth import Access, AuthError
from osconsole.cloud.connect import RegionSession
from osconsole.cloud.http import ApiFailure, ReadOnlyRefused
from osconsole.model import Kind, RegionRef

log = logging.getLogger(__name__)


class Result(StrEnum):
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some requests changed the cloud, a later one failed
    FAILED = "failed"
    REFUSED = "refused"  # nothing was sent


class StepState(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUSED = "refused"
    NOT_SENT = "not sent"


@dataclass(frozen=True, slots=True)
class Step:
    """One request of a plan and how it ended."""

    request: Request
    state: StepState
    status: int = 0  # HTTP status, 0 when none came back
    message: str = ""

    def record(self) -> dict[str, object]:
        return {**self.request.as_record(), "state": self.state.value, "status": self.status}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run did: the verdict, a message for the operator, each request's end,
    the kinds to poll again at once, and the audit line as written."""

    plan: Plan
    result: Result
    message: str
    steps: tuple[Step, ...]
    repoll: tuple[Kind, ...]
    audit: Mapping[str, object] | None = None

    @property
    def ok(self) -> bool:
        return self.result == Result.SUCCEEDED


def is_readonly(session: RegionSession) -> bool:
    return session.readonly or session.client.readonly


def can_change(session: RegionSession | None) -> bool:
    """Whether anything may be offered there: connected, not read-only, and not with a
    credential already known to be GET-only."""
    return session is not None and not is_readonly(session) and not session.auth.get_only


class ActionRunner:
    """Plans actions on targets of the connected regions and runs confirmed plans."""

    def __init__(self, audit: AuditLog, sessions: Iterable[RegionSession] = ()) -> None:
        self.audit = audit
        self.sessions: dict[RegionRef, RegionSession] = {s.ref: s for s in sessions}

    def offered(self, target: ActionTarget) -> list[Action]:
        """What a screen may list and bind for `target`: nothing dangerous when its
        region is read-only, its credential GET-only, or it is not connected."""
        return actions_for(target, readonly=not self.may_act(target.ref))

    def may_act(self, ref: RegionRef) -> bool:
        """Whether a screen showing an object of `ref` binds the action key at all."""
        return can_change(self.sessions.get(ref))

    def plan(
        self, action: Action | str, target: ActionTarget, params: Mapping[str, object] | None = None
    ) -> Plan:
        """The exact requests, with parameters validated; raises PlanError. Sends nothing."""
        chosen = action_named(action) if isinstance(action, str) else action
        session = self.sessions.get(target.ref)
        if session is None:
            raise PlanError(f"{target.ref} is not connected: nothing can be planned there")
        facts = Facts(compute_microversion=session.client.microversions.get("compute"))
        return build_plan(chosen, target, params, facts)

    async def refusal(self, plan: Plan, session: RegionSession) -> str | None:
        """Why `plan` may not run in `session`, or None. Never sends a service request."""
        access = await _access(session)
        return _refusal(plan, session, access if isinstance(access, Access) else None)

    async def run(self, plan: Plan, session: RegionSession | None = None) -> Outcome:
        """Run a confirmed plan: refuse it, or send its requests in order, stopping at
        the first that fails. Writes exactly one audit line."""
        session = session or self.sessions.get(plan.ref)
        if session is None:
            return await self._refused(plan, None, None, f"{plan.ref} is not connected")
        found = await _access(session)
        access = found if isinstance(found, Access) else None
        reason = _refusal(plan, session, access)
        if reason is not None:
            return await self._refused(plan, session, access, reason)
        if access is None:  # not refused, but we cannot know who would act: send nothing
            return await self._finish(plan, session, None, _unsent(plan), Result.FAILED, str(found))
        try:
            await asyncio.to_thread(self.audit.check)
        except OSError as exc:
            why = f"refused: the audit log {self.audit.path} cannot be written: {exc}"
            return Outcome(plan, Result.REFUSED, why, _unsent(plan), ())
        steps: list[Step] = []
        try:
            await _send(plan, session, steps)
        except asyncio.CancelledError:
            _cancelled(plan, steps)
            with contextlib.suppress(OSError):
                self._record(plan, session, access, tuple(steps), *_verdict(plan, steps))
            raise
        return await self._finish(plan, session, access, tuple(steps), *_verdict(plan, steps))

    async def _refused(
        self, plan: Plan, session: RegionSession | None, access: Access | None, reason: str
    ) -> Outcome:
        return await self._finish(plan, session, access, _unsent(plan), Result.REFUSED, reason)

    async def _finish(
        self,
        plan: Plan,
        session: RegionSession | None,
        access: Access | None,
        steps: tuple[Step, ...],
        result: Result,
        message: str,
    ) -> Outcome:
        written: Mapping[str, object] | None = None
        try:
            written = await asyncio.to_thread(
                self._record, plan, session, access, steps, result, message
            )
        except OSError as exc:  # the change is made: say so, and that it went unaudited
            log.error("audit log %s: %s", self.audit.path, exc)
            message += f" (NOT AUDITED: {self.audit.path}: {exc.strerror or exc})"
        sent = any(s.state in (StepState.SUCCEEDED, StepState.FAILED) for s in steps)
        repoll = plan.action.repoll if sent else ()
        return Outcome(plan, result, message, steps, repoll, written)

    def _record(
        self,
        plan: Plan,
        session: RegionSession | None,
        access: Access | None,
        steps: tuple[Step, ...],
        result: Result,
        message: str,
    ) -> Mapping[str, object]:
        target = plan.target
        entry = AuditEntry(
            cloud=plan.ref.cloud,
            region=plan.ref.region,
            user_name=access.user_name if access else "",
            user_id=access.user_id if access else "",
            project_id=access.project_id if access else "",
            action=plan.action.name,
            dangerous=plan.action.dangerous,
            target_kind=target.kind.value,
            target_id=target.id,
            target_name=target.name,
            params=dict(plan.params),
            requests=tuple(s.record() for s in steps),
            allowed=result != Result.REFUSED,
            result=result.value,
            message=message,
            readonly=bool(session and is_readonly(session)),
        )
        return self.audit.append(entry, secrets=(access.token,) if access else ())


async def _access(session: RegionSession) -> Access | str:
    """The session's Keystone access (cached; a token request at most), or why not."""
    try:
        return await session.auth.access()
    except AuthError as exc:
        return f"cannot authenticate: {clean_text(exc)}"


def _refusal(plan: Plan, session: RegionSession, access: Access | None) -> str | None:
    action = plan.action
    if session.ref != plan.ref:
        return f"this plan is for {plan.ref}, not {session.ref}"
    if is_readonly(session) and (action.dangerous or plan.mutating):
        return (
            f"refused: {session.ref} is read-only (--readonly, config or wall mode), "
            f"and '{action.title}' changes the cloud"
        )
    if access is not None and access.get_only and plan.mutating:
        who = access.user_name or access.user_id or "this credential"
        return (
            f"refused: the credential of {session.ref} ({who}) can only read: its "
            "application credential's access rules allow GET requests only. "
            "Use a credential that may make changes."
        )
    planned = plan.facts.compute_microversion
    current = session.client.microversions.get("compute")
    if planned != current and any(r.service == "compute" for r in plan.requests):
        return (
            f"refused: {session.ref} now speaks compute {current}, the plan was made for "
            f"{planned}: plan it again so that what is sent is what was shown"
        )
    return None


async def _send(plan: Plan, session: RegionSession, steps: list[Step]) -> None:
    """Send the requests in order into `steps`; the first that fails stops the rest."""
    for request in plan.requests:
        if steps and steps[-1].state != StepState.SUCCEEDED:
            steps.append(Step(request, StepState.NOT_SENT))
            continue
        steps.append(await _one(request, session))


async def _one(request: Request, session: RegionSession) -> Step:
    try:
        reply = await session.client.request(
            request.method, request.service, request.path, body=request.body
        )
    except ReadOnlyRefused as exc:
        return Step(request, StepState.REFUSED, 0, exc.reason)
    except ApiFailure as exc:
        return Step(request, StepState.FAILED, exc.status, exc.reason)
    except AuthError as exc:  # keystoneauth's words, which may quote Keystone's answer
        return Step(request, StepState.FAILED, 0, f"cannot authenticate: {clean_text(exc)}")
    return Step(request, StepState.SUCCEEDED, reply.status)


def _unsent(plan: Plan) -> tuple[Step, ...]:
    return tuple(Step(r, StepState.NOT_SENT) for r in plan.requests)


def _cancelled(plan: Plan, steps: list[Step]) -> None:
    """A run cancelled mid-request: the request in flight may or may not have landed."""
    in_flight = plan.requests[len(steps)] if len(steps) < len(plan.requests) else None
    if in_flight is not None:
        why = "cancelled while waiting for the answer: it may or may not have been applied"
        steps.append(Step(in_flight, StepState.FAILED, 0, why))
    steps.extend(Step(r, StepState.NOT_SENT) for r in plan.requests[len(steps) :])


def _verdict(plan: Plan, steps: list[Step]) -> tuple[Result, str]:
    title = plan.action.title
    done = [s for s in steps if s.state == StepState.SUCCEEDED]
    stopped = next((s for s in steps if s.state != StepState.SUCCEEDED), None)
    if stopped is None:
        return Result.SUCCEEDED, f"{title}: done ({_statuses(done)})"
    failure = f"{stopped.request.method} {stopped.request.path}: {stopped.message}"
    if not done:
        result = Result.REFUSED if stopped.state == StepState.REFUSED else Result.FAILED
        return result, f"{title} {result.value}: {failure}"
    unsent = [s.request for s in steps if s.state == StepState.NOT_SENT]
    parts = [
        f"{title}: partly done",
        f"succeeded: {_statuses(done)}",
        f"{stopped.state.value}: {failure.rstrip('.')}",
    ]
    if unsent:
        parts.append("not sent: " + "; ".join(f"{r.method} {r.path}" for r in unsent))
    if plan.action.on_partial:
        parts.append(plan.action.on_partial(plan, len(done)))
    return Result.PARTIAL, ". ".join(p for p in parts if p)


def _statuses(steps: list[Step]) -> str:
    return "; ".join(f"{s.request.method} {s.request.path} -> {s.status}" for s in steps)
