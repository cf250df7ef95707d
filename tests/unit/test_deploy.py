"""The deployment files agree with the code: images, commands, ports, probes and the
names of settings in the Dockerfile, deploy/docker-compose.yml and deploy/k8s/."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from omniroute.cli import build_parser
from shared.config import Settings
from shared.http import health_router

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
IMAGE = f"omniroute:{VERSION}"
SETTINGS = {f"OMNIROUTE_{name.upper()}" for name in Settings.model_fields}
COMMANDS = next(
    action.choices
    for action in build_parser()._actions
    if isinstance(action, argparse._SubParsersAction)
)
HEALTH_PATHS = {route.path for route in health_router({}).routes}  # type: ignore[attr-defined]


def k8s() -> list[dict[str, Any]]:
    return [
        document
        for path in sorted((ROOT / "deploy/k8s").glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [document for document in k8s() if document["kind"] == kind]


def containers() -> list[dict[str, Any]]:
    return [
        container
        for document in k8s()
        if document["kind"] in {"Deployment", "Job"}
        for container in document["spec"]["template"]["spec"]["containers"]
    ]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "deploy/docker-compose.yml").read_text())
    return loaded


def test_every_container_runs_this_version_and_a_real_command() -> None:
    assert containers()
    for container in containers():
        assert container["image"] == IMAGE
        words = container.get("args") or container["command"][-1].replace("&&", " ").split()
        commands = [w for w in words if w in COMMANDS] or words[:1]
        assert commands and all(command in COMMANDS for command in commands), container


def test_deployments_listen_where_probes_and_services_look() -> None:
    port = int(next(iter(of_kind("ConfigMap")))["data"]["OMNIROUTE_PORT"])
    for deployment in of_kind("Deployment"):
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert {"/readyz", "/healthz"} <= HEALTH_PATHS
    labels = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in of_kind("Deployment")
    }
    for service in of_kind("Service"):
        assert any(
            service["spec"]["selector"].items() <= pod_labels.items()
            for pod_labels in labels.values()
        )
    for target in (*of_kind("PodDisruptionBudget"), *of_kind("HorizontalPodAutoscaler")):
        spec = target["spec"]
        name = spec.get("scaleTargetRef", {}).get("name")
        selector = spec.get("selector", {}).get("matchLabels")
        assert name in labels or any(selector.items() <= pod.items() for pod in labels.values())


def test_settings_are_named_as_the_code_reads_them() -> None:
    named = set(next(iter(of_kind("ConfigMap")))["data"])
    named |= set(next(iter(of_kind("Secret")))["stringData"])
    named |= set(compose()["x-omniroute"]["environment"])
    assert named and named <= SETTINGS, named - SETTINGS


@pytest.mark.parametrize("service", ["channels", "router", "agents"])
def test_compose_runs_each_service_from_the_image(service: str) -> None:
    entry = compose()["services"][service]
    assert entry["image"] == IMAGE and entry["command"] == [service]
    assert entry["depends_on"] == {"setup": {"condition": "service_completed_successfully"}}


def test_the_dockerfile_serves_what_the_manifests_expect() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["omniroute"]' in dockerfile
    assert "EXPOSE 8000" in dockerfile and "OMNIROUTE_PORT=8000" in dockerfile
    assert "/healthz" in dockerfile
