"""Operator endpoints and request metrics: ``/health`` (public: liveness plus a database round
trip), ``/metrics`` (Prometheus exposition, behind authentication when it is on: scrape with a
service account's token: requests by route template and status, latency
histogram, in-flight requests) and ``/api/v1/server`` (version, auth mode).

Metrics are recorded by a plain ASGI wrapper (no middleware stack) into a registry of this
app's own, so several apps in one process (tests) never share counters."""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keel.api._authz import AUTHENTICATED, PUBLIC, KeelRoute, permission
from keel.api._json import respond_raw
from keel.api._state import state_of

router = APIRouter(tags=["operations"], route_class=KeelRoute)

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class RequestMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("keel_http_requests", "HTTP requests served",
                                ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram("keel_http_request_duration_seconds",
                                 "Time to answer an HTTP request", ("method", "route"),
                                 buckets=_BUCKETS, registry=self.registry)
        self.in_flight = Gauge("keel_http_requests_in_flight", "Requests being answered",
                               registry=self.registry)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.in_flight.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)


@router.get("/health")
@permission(PUBLIC)
def health(request: Request) -> Response:
    """200 when the metadata store answers, 503 when it does not."""
    state = state_of(request)
    try:
        state.keel.metadata.experiments.find_experiment_by_name("__keel_health__")
    except Exception as error:
        return respond_raw({"status": "unavailable", "error": type(error).__name__}, 503)
    return respond_raw({"status": "ok"})


@router.get("/metrics", responses={200: {
    "description": "Prometheus text exposition",
    "content": {"text/plain": {"schema": {"type": "string"}}}}})
@permission(AUTHENTICATED)
def metrics(request: Request) -> Response:
    registry = request.app.state.request_metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/server")
@permission(AUTHENTICATED)
def server_info(request: Request) -> Response:
    from keel import __version__

    state = state_of(request)
    info: dict[str, Any] = {
        "version": __version__,
        "auth": state.auth is not None,
        "principal": request.state.principal.name,
        "artifact_proxy": True,
        "pid": os.getpid(),
    }
    return respond_raw(info)
