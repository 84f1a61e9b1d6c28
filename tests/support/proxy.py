"""A small ASGI proxy in front of the simulator, for answers it cannot give (yet).

Real clouds sit behind HAProxy, nginx or a rate limiter, which answer for a service
with their own pages: 429 or 503 with `Retry-After`, HTML 502 pages. The proxy
counts every request that reaches it and answers the chosen ones itself; the rest
go on to the simulator untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Rule:
    region: str | None  # None: any region
    service: str | None  # "compute", "network", ... None: any service
    answer: Answer
    times: int | None = None  # how many requests it answers; None: until cleared


class FaultProxy:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.rules: list[Rule] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request

    def answer(
        self,
        status: int,
        *,
        region: str | None = None,
        service: str | None = None,
        body: bytes | dict[str, Any] = b"",
        headers: dict[str, str] | None = None,
        times: int | None = None,
    ) -> None:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        kind = "application/json" if isinstance(body, dict) else "text/html; charset=utf-8"
        all_headers = {"content-type": kind, **(headers or {})}
        self.rules.append(Rule(region, service, Answer(status, raw, all_headers), times))

    def clear(self) -> None:
        self.rules.clear()

    def count(self, region: str, service: str) -> int:
        prefix = f"/{region}/{service}"
        return sum(1 for _, path in self.requests if path.startswith(prefix))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.requests.append((scope["method"], scope["path"]))
        parts = [p for p in scope["path"].split("/") if p]
        region, service = [*parts, "", ""][:2]
        for rule in self.rules:
            if rule.region not in (None, region) or rule.service not in (None, service):
                continue
            if rule.times is not None:
                rule.times -= 1
                if rule.times == 0:
                    self.rules.remove(rule)
            answer = rule.answer
            headers = [(k.encode(), v.encode()) for k, v in answer.headers.items()]
            headers.append((b"content-length", str(len(answer.body)).encode()))
            await send({"type": "http.response.start", "status": answer.status, "headers": headers})
            await send({"type": "http.response.body", "body": answer.body})
            return
        await self.app(scope, receive, send)
